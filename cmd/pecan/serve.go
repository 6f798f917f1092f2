package main

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/pecan-social/pecan/app"
)

func newServeCommand(flags *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := app.New(ctx, cfg, app.Options{Migrate: !flags.noMigrate, Version: version})
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			a.Logger.Info("pecan is serving", "listen", ln.Addr().String(), "public_url", cfg.PublicURL(),
				"database", redactedScheme(cfg.Database.URL), "redis", cfg.Redis.URL != "", "version", version,
				"first_user", "pecan user create --username NAME --password-stdin")
			return a.Serve(ctx, ln)
		},
	}
}

// redactedScheme names the database kind without printing credentials.
func redactedScheme(url string) string {
	for i := range len(url) {
		if url[i] == ':' {
			return url[:i]
		}
	}
	return "unknown"
}
