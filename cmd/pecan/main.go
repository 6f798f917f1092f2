// Command pecan is the Pecan server and its operator tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	_ "time/tzdata" // time zones for profile validation, even in a scratch image

	"github.com/pecan-social/pecan/app/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes scripts can rely on.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

type globalFlags struct {
	configPath string
	noMigrate  bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "pecan:", err)
	var usage usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitError
}

// usageError marks mistakes in how a command was called.
type usageError struct{ error }

func newRootCommand() *cobra.Command {
	flags := &globalFlags{}
	root := &cobra.Command{
		Use:           "pecan",
		Short:         "Pecan: a federated, pnut-style microblog server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&flags.configPath, "config", "", "YAML config file (default: config.yaml if present)")
	root.PersistentFlags().BoolVar(&flags.noMigrate, "no-migrate", false, "do not apply pending database migrations at start")
	root.AddCommand(
		newServeCommand(flags),
		newMigrateCommand(flags),
		newUserCommand(flags),
		newTokenCommand(flags),
		newAppCommand(flags),
		newPostCommand(),
		newHealthcheckCommand(flags),
		newVersionCommand(),
	)
	return root
}

func (f *globalFlags) load() (*config.Config, error) {
	return config.Load(f.configPath, os.Environ())
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), version)
		},
	}
}
