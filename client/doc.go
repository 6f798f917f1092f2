// Package client is a Go client for the API of a Pecan server (pnut's v1
// API, as Pecan serves it), for bots and apps.
//
// Make a client with the server's URL and an access token (from `pecan
// token create`, or POST /v1/tokens), then call its methods:
//
//	c, err := client.New("https://pecan.example", client.WithToken(os.Getenv("PECAN_TOKEN")))
//	post, err := c.CreatePost(ctx, client.NewPost{Text: "Hello from a bot"})
//	fmt.Println(c.PostURL(post))
//
// Posts: CreatePost, Post, Posts, RevisePost, Revisions, DeletePost,
// Repost, Unrepost, Bookmark, Unbookmark, ProcessText.
//
// Streams: Stream fetches one page of a Stream (Global, Personal, Unified,
// Tagged, PostsOf, MentionsOf, BookmarksOf, Thread); PostPage.Older and
// PostPage.Newer give the next Page back or forward, and All walks a
// stream as an iterator.
//
// Markers: Markers, SetMarkers, ResetMarkers. Users: User, Users,
// UpdateProfile, Follow, Unfollow, Mute, Unmute, Block, Unblock,
// Followers, Following, Muted, Blocked. Tokens: Token, CreateToken,
// Tokens, RevokeToken. Webhooks: CreateWebhook, Webhooks, Webhook,
// UpdateWebhook, DeleteWebhook, RotateWebhookSecret, TestWebhook,
// Deliveries, Redeliver.
//
// Errors the server answers with are *Error values, carrying the HTTP
// status and pnut's error_code and field; ErrorCode(err) reads the code.
// A call answered 429 Too Many Requests is tried again after the
// Retry-After the server sent (see WithRetries). Every create carries an
// Idempotency-Key, the same on each retry, so a retry never creates twice.
//
// Crosspost targets are not in the library yet: they come with the
// server's crossposting (see crosspost.go).
package client
