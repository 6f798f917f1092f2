package posts

import (
	"context"
	"testing"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/models"
)

// quietSink is a sink that says it is quiet about event types it is told.
type quietSink map[string]bool

func (quietSink) Emit(context.Context, database.Queries, models.Event) error { return nil }

func (s quietSink) QuietIfUnheard(e models.Event) bool { return s[e.Type] }

// plainSink cannot tell whether it is quiet.
type plainSink struct{}

func (plainSink) Emit(context.Context, database.Queries, models.Event) error { return nil }

// TestWhichPostsAreWrittenAlone: a new post is tried without a
// transaction only if it is no reply, has no crosspost, every sink is
// quiet about all its events, and its author's last post was not heard.
func TestWhichPostsAreWrittenAlone(t *testing.T) {
	quiet := quietSink{models.EventPostCreated: true, models.EventMentionCreated: true}
	mentioning := &models.Post{UserID: 1, Entities: models.Entities{Mentions: []models.Mention{{ID: "2", Text: "bob"}}}}
	for _, c := range []struct {
		name  string
		sink  events.Sink
		post  *models.Post
		in    Input
		heard bool
		want  bool
	}{
		{name: "plain", sink: quiet, post: &models.Post{UserID: 1}, want: true},
		{name: "with a mention", sink: quiet, post: mentioning, want: true},
		{name: "reply", sink: quiet, post: &models.Post{UserID: 1}, in: Input{ReplyTo: new(int64(7))}},
		{name: "crosspost", sink: quiet, post: &models.Post{UserID: 1}, in: Input{Crosspost: &models.CrosspostChoice{}}},
		{name: "author heard last time", sink: quiet, post: &models.Post{UserID: 1}, heard: true},
		{name: "a sink loud about mentions", sink: quietSink{models.EventPostCreated: true}, post: mentioning},
		{name: "a sink that cannot tell", sink: events.Sinks{quiet, plainSink{}}, post: &models.Post{UserID: 1}},
		{name: "every sink quiet", sink: events.Sinks{quiet, quiet}, post: mentioning, want: true},
	} {
		p := New(nil, nil, c.sink, nil, DefaultRules)
		p.rememberHeard(c.post.UserID, c.heard)
		if got := p.mayWriteAlone(c.post, c.in); got != c.want {
			t.Errorf("%s: written alone %v, want %v", c.name, got, c.want)
		}
	}
}

// TestHeardAuthorsAreForgottenWhenNotHeard: an author whose post in a
// transaction was not heard is tried alone again.
func TestHeardAuthorsAreForgottenWhenNotHeard(t *testing.T) {
	p := New(nil, nil, quietSink{models.EventPostCreated: true}, nil, DefaultRules)
	post := &models.Post{UserID: 1}
	p.rememberHeard(1, true)
	if p.mayWriteAlone(post, Input{}) {
		t.Fatal("an author just heard is tried alone")
	}
	p.rememberHeard(1, false)
	if !p.mayWriteAlone(post, Input{}) {
		t.Fatal("an author no longer heard is not tried alone")
	}
}

// TestBoundedMapForgetsPastItsBound: it never holds more than max
// entries, and keeps working after it forgets.
func TestBoundedMapForgetsPastItsBound(t *testing.T) {
	b := boundedMap[int, int]{max: 3}
	for i := range 10 {
		b.put(i, i)
		if n := len(b.m); n > 3 {
			t.Fatalf("%d entries after %d puts, want at most 3", n, i+1)
		}
		if v, ok := b.get(i); !ok || v != i {
			t.Fatalf("just put %d, got %d %v", i, v, ok)
		}
	}
	b.delete(9)
	if b.has(9) {
		t.Fatal("deleted key still held")
	}
}
