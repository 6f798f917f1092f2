package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/pecan-social/pecan/app"
	"github.com/pecan-social/pecan/app/database"
)

func newMigrateCommand(flags *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply, roll back or list database migrations"}
	cmd.AddCommand(
		migrateSubcommand(flags, "up", "Apply every pending migration", func(cmd *cobra.Command, db *database.DB) error {
			applied, err := db.MigrateUp(cmd.Context())
			return printNames(cmd.OutOrStdout(), "applied", applied, err)
		}),
		migrateSubcommand(flags, "down", "Roll back the last group of migrations", func(cmd *cobra.Command, db *database.DB) error {
			rolled, err := db.MigrateDown(cmd.Context())
			return printNames(cmd.OutOrStdout(), "rolled back", rolled, err)
		}),
		migrateSubcommand(flags, "status", "List migrations and whether they are applied", func(cmd *cobra.Command, db *database.DB) error {
			statuses, err := db.MigrationStatuses(cmd.Context())
			if err != nil {
				return err
			}
			for _, s := range statuses {
				state := "pending"
				if s.Applied {
					state = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s_%s\t%s\n", s.Name, s.Comment, state)
			}
			return nil
		}),
	)
	return cmd
}

func migrateSubcommand(flags *globalFlags, use, short string, fn func(*cobra.Command, *database.DB) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load()
			if err != nil {
				return err
			}
			db, err := app.OpenDatabase(cmd.Context(), cfg, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return err
			}
			defer db.Close()
			return fn(cmd, db)
		},
	}
}

func printNames(w io.Writer, verb string, names []string, err error) error {
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fmt.Fprintf(w, "nothing %s\n", verb)
	}
	for _, n := range names {
		fmt.Fprintf(w, "%s %s\n", verb, n)
	}
	return nil
}
