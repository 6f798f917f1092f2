package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pecan-social/pecan/client"
)

// newPostCommand is `pecan post`: a bot's one-liner. It talks to a server
// over the API, so it needs no config, only the server's URL and a token.
func newPostCommand() *cobra.Command {
	var (
		serverURL, token, replyTo, key string
		nsfw                           bool
	)
	cmd := &cobra.Command{
		Use:   "post TEXT",
		Short: "Post TEXT (or standard input, with -) and print the new post's URL",
		Long: `Post TEXT to a Pecan server and print the new post's URL.

The server and the token come from --url and --token, or from PECAN_URL and
PECAN_TOKEN (a token with the write_post scope: pecan token create). With
TEXT "-" the text is read from standard input, its final newline dropped.

Exit codes: 0 posted; 1 the server refused or could not be reached (the
reason is on standard error); 2 the command was called wrongly.`,
		Example: `  PECAN_URL=https://pecan.example PECAN_TOKEN=pcn_… pecan post "Hello from a bot"
  fortune | pecan post -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("post takes exactly one argument: the text, or - to read it from standard input")}
			}
			text, err := postText(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := postClient(serverURL, token)
			if err != nil {
				return err
			}
			p := client.NewPost{Text: text, ReplyTo: replyTo, IdempotencyKey: key}
			if cmd.Flags().Changed("nsfw") {
				p.NSFW = &nsfw
			}
			post, err := c.CreatePost(cmd.Context(), p)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), c.PostURL(post))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "url", "", "the server's URL (default $PECAN_URL)")
	f.StringVar(&token, "token", "", "an access token with write_post (default $PECAN_TOKEN)")
	f.StringVar(&replyTo, "reply-to", "", "the id of the post this answers")
	f.BoolVar(&nsfw, "nsfw", false, "mark the post sensitive (default: only if the text has #nsfw)")
	f.StringVar(&key, "idempotency-key", "", "the same key within an hour posts once, however often the command runs")
	return cmd
}

func postText(arg string, stdin io.Reader) (string, error) {
	text := arg
	if arg == "-" {
		raw, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read the text from standard input: %w", err)
		}
		text = strings.TrimRight(string(raw), "\r\n")
	}
	if strings.TrimSpace(text) == "" {
		return "", usageError{errors.New("the text is empty")}
	}
	return text, nil
}

func postClient(serverURL, token string) (*client.Client, error) {
	if serverURL == "" {
		serverURL = os.Getenv("PECAN_URL")
	}
	if token == "" {
		token = os.Getenv("PECAN_TOKEN")
	}
	if serverURL == "" || token == "" {
		return nil, usageError{errors.New("the server and a token are needed: --url and --token, or PECAN_URL and PECAN_TOKEN")}
	}
	c, err := client.New(serverURL, client.WithToken(token), client.WithUserAgent("pecan-post/"+version))
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}
