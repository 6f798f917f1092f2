package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pecan-social/pecan/app"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/models"
)

// withDatabase opens the configured database for a one-off command.
func withDatabase(ctx context.Context, flags *globalFlags, fn func(*database.DB) error) error {
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	db, err := app.OpenDatabase(ctx, cfg, !flags.noMigrate, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func newUserCommand(flags *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage accounts"}
	var (
		in            users.NewUser
		userType      string
		passwordStdin bool
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Username == "" {
				return usageError{errors.New("--username is required")}
			}
			in.Type = models.UserType(userType)
			if passwordStdin {
				pw, err := readPassword(cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Password = pw
			}
			return withDatabase(cmd.Context(), flags, func(db *database.DB) error {
				u, err := users.New(db, time.Now, 0, federation.GenerateKey).Create(cmd.Context(), in)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created user @%s (id %d, %s)\n", u.Username, u.ID, u.Type)
				return nil
			})
		},
	}
	create.Flags().StringVar(&in.Username, "username", "", "username: 1 to 20 of a-z, 0-9 and _")
	create.Flags().StringVar(&in.Name, "name", "", "display name")
	create.Flags().StringVar(&userType, "type", string(models.UserHuman), "account type: human, feed or bot")
	create.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.AddCommand(create)
	return cmd
}

// readPassword takes the first line of r, so `echo pw | pecan user create`
// and a here-doc both work.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageError{errors.New("--password-stdin: standard input held no password")}
	}
	return pw, nil
}

func newTokenCommand(flags *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage access tokens"}
	var (
		username, scopes, label string
		expires                 time.Duration
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue a personal access token; prints only the token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" {
				return usageError{errors.New("--username is required")}
			}
			parsed, err := models.ParseScopes(scopes)
			if err != nil {
				return usageError{fmt.Errorf("--scopes: %w", err)}
			}
			if expires < 0 {
				return usageError{errors.New("--expires must be positive")}
			}
			return withDatabase(cmd.Context(), flags, func(db *database.DB) error {
				u, err := users.New(db, time.Now, 0, federation.GenerateKey).Lookup(cmd.Context(), "@"+username, nil)
				if err != nil {
					return err
				}
				raw, _, err := tokens.New(db, time.Now).Issue(cmd.Context(), u,
					tokens.NewToken{Label: label, Scopes: parsed, TTL: expires})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), raw)
				return nil
			})
		},
	}
	create.Flags().StringVar(&username, "username", "", "the account the token acts for")
	create.Flags().StringVar(&scopes, "scopes", "basic", "comma-separated scopes, e.g. basic,stream,write_post")
	create.Flags().StringVar(&label, "label", "cli", "a name to recognise the token by")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime such as 720h; 0 means it never expires")
	cmd.AddCommand(create)
	return cmd
}
