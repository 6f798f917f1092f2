package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/oauth"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/models"
)

// appsProcessor is the OAuth processor with what the operator's commands
// need: the database, and nothing for sign-in or tokens.
func appsProcessor(db *database.DB) *oauth.Processor {
	return oauth.New(db, nil, nil, nil, nil, time.Now, oauth.Settings{})
}

func newAppCommand(flags *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "Manage OAuth client apps"}
	cmd.AddCommand(newAppCreateCommand(flags), newAppTrustCommand(flags))
	return cmd
}

func newAppCreateCommand(flags *globalFlags) *cobra.Command {
	var (
		in            oauth.NewApp
		scopes, owner string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Register an app; prints its client_id and client_secret (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Name == "" {
				return usageError{errors.New("--name is required")}
			}
			parsed, err := models.ParseScopes(scopes)
			if err != nil {
				return usageError{fmt.Errorf("--scopes: %w", err)}
			}
			in.Scopes = parsed
			return withDatabase(cmd.Context(), flags, func(db *database.DB) error {
				if owner != "" {
					u, err := users.New(db, time.Now, 0, federation.GenerateKey).Lookup(cmd.Context(), "@"+strings.TrimPrefix(owner, "@"), nil)
					if err != nil {
						return err
					}
					in.Owner = u
				}
				reg, err := appsProcessor(db).RegisterApp(cmd.Context(), in)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "client_id: %s\nclient_secret: %s\n", reg.App.ClientID, reg.Secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "the app's name, shown on the consent page")
	create.Flags().StringVar(&in.Website, "website", "", "the app's web site")
	create.Flags().StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "a redirect URI (repeat for more); "+oauth.OOB+" shows the code instead")
	create.Flags().StringVar(&scopes, "scopes", "basic", "the most the app may ask for, comma-separated")
	create.Flags().StringVar(&owner, "owner", "", "username of the account that owns the app (default: none)")
	return create
}

func newAppTrustCommand(flags *globalFlags) *cobra.Command {
	var revoke bool
	trust := &cobra.Command{
		Use:   "trust CLIENT_ID",
		Short: "Make an app first-party: allow it the password grant; prints its password_grant_secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDatabase(cmd.Context(), flags, func(db *database.DB) error {
				p := appsProcessor(db)
				app, err := p.AppByClientID(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if revoke {
					if err := p.Distrust(cmd.Context(), app); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s may no longer use the password grant\n", app.Name)
					return nil
				}
				secret, err := p.Trust(cmd.Context(), app)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password_grant_secret: %s\n", secret)
				return nil
			})
		},
	}
	trust.Flags().BoolVar(&revoke, "revoke", false, "take the password grant away again")
	return trust
}
