package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app"
	"github.com/pecan-social/pecan/app/config"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/app/users"
	"github.com/pecan-social/pecan/client"
	"github.com/pecan-social/pecan/models"
)

// exampleServer starts a throwaway Pecan for an example, with a bot
// account "newsbot", and returns its URL, the bot's token (as `pecan token
// create` would print it) and a func that stops it. In your program the
// URL is your server's and the token comes from the environment.
func exampleServer() (baseURL, token string, stop func()) {
	dir, err := os.MkdirTemp("", "pecan-example")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	cfg := config.Default()
	cfg.Host, cfg.Scheme = ln.Addr().String(), "http"
	cfg.Delivery.AllowPrivateAddresses = true
	cfg.Database.URL = "sqlite://" + filepath.Join(dir, "pecan.db")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{Migrate: true, LogOutput: io.Discard, BcryptCost: bcrypt.MinCost})
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	bot, err := a.Users.Create(ctx, users.NewUser{Username: "newsbot", Type: models.UserBot})
	if err != nil {
		log.Fatal(err)
	}
	token, _, err = a.Tokens.Issue(ctx, bot, tokens.NewToken{Label: "example",
		Scopes: models.Scopes{models.ScopeBasic, models.ScopeWritePost, models.ScopeStream, models.ScopeWebhooks}})
	if err != nil {
		log.Fatal(err)
	}
	return "http://" + cfg.Host, token, func() {
		cancel()
		<-done
		_ = a.Close()
		_ = os.RemoveAll(dir)
	}
}

// A bot posts and prints where people can read the post.
func Example() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	c, err := client.New(baseURL, client.WithToken(token), client.WithUserAgent("newsbot/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	post, err := c.CreatePost(ctx, client.NewPost{Text: "Good morning! Today's #news: https://news.example/today"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(post.User.Username, post.Text())
	fmt.Println("tags:", post.Content.Entities.Tags[0].Text, "links:", post.Content.Entities.Links[0].URL)
	fmt.Println(strings.TrimPrefix(c.PostURL(post), baseURL))
	// Output:
	// newsbot Good morning! Today's #news: https://news.example/today
	// tags: news links: https://news.example/today
	// /@newsbot/1
}

// An Idempotency-Key makes a create safe to send again, say after a
// timeout: the server answers with the post it already made.
func ExampleClient_CreatePost_idempotent() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(baseURL, client.WithToken(token))

	key := client.NewIdempotencyKey()
	first, _ := c.CreatePost(ctx, client.NewPost{Text: "Posted once", IdempotencyKey: key})
	again, _ := c.CreatePost(ctx, client.NewPost{Text: "Posted once", IdempotencyKey: key})
	fmt.Println(first.ID == again.ID)
	// Output: true
}

// Errors carry pnut's error_code and the field at fault.
func ExampleErrorCode() {
	baseURL, token, stop := exampleServer()
	defer stop()
	c, _ := client.New(baseURL, client.WithToken(token))

	_, err := c.CreatePost(context.Background(), client.NewPost{Text: strings.Repeat("long ", 60)})
	fmt.Println(client.ErrorCode(err))
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Field)
	}
	// Output:
	// text_too_long
	// 400 text
}

// All walks a stream back to its start, fetching pages as it goes.
func ExampleClient_All() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(baseURL, client.WithToken(token))
	for _, text := range []string{"one", "two", "three"} {
		if _, err := c.CreatePost(ctx, client.NewPost{Text: text}); err != nil {
			log.Fatal(err)
		}
	}

	for post, err := range c.All(ctx, client.PostsOf("@newsbot"), client.Page{Count: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(post.Text())
	}
	// Output:
	// three
	// two
	// one
}

// A bot that polls a stream keeps the newest id it saw and asks only for
// what came after it.
func ExamplePostPage_Newer() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(baseURL, client.WithToken(token))

	_, _ = c.CreatePost(ctx, client.NewPost{Text: "old news"})
	page, _ := c.Stream(ctx, client.PostsOf("me"), client.Page{})
	_, _ = c.CreatePost(ctx, client.NewPost{Text: "breaking news"})

	fresh, _ := c.Stream(ctx, client.PostsOf("me"), page.Newer())
	for _, p := range fresh.Posts {
		fmt.Println(p.Text())
	}
	// Output: breaking news
}

// Markers keep a reader's place in a stream across devices.
func ExampleClient_SetMarkers() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(baseURL, client.WithToken(token))

	post, _ := c.CreatePost(ctx, client.NewPost{Text: "read up to here"})
	markers, err := c.SetMarkers(ctx, client.MarkerUpdate{Name: client.MarkerPersonal, ID: post.ID, Percentage: 50})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(markers[0].Name, markers[0].ID == post.ID, markers[0].Percentage, markers[0].Version)
	// Output: personal true 50 1
}

// A webhook tells a bot of events that concern it; keep the secret to
// verify the signatures of the deliveries.
func ExampleClient_CreateWebhook() {
	baseURL, token, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(baseURL, client.WithToken(token))

	hook, err := c.CreateWebhook(ctx, client.NewWebhook{
		Name: "mentions", URL: "http://127.0.0.1:9/hooks/pecan", Events: []string{client.EventMentionCreated},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hook.Name, hook.Events, strings.HasPrefix(hook.Secret, "whsec_"))
	// Output: mentions [mention.created] true
}
