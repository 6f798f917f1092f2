package convert_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/graph"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

const benchText = "@bob have you read [the pnut docs](https://pnut.io/docs \"pnut\")? Notes at https://example.com/notes/42 " +
	"and example.org/path too, @carol. #Pecan #launch_party"

// benchPage is a stream page as the streams package returns it: 20 posts
// by 20 authors, with their entities parsed and mentions resolved.
func benchPage(b *testing.B) ([]*models.Post, map[int64]*models.User) {
	b.Helper()
	stored, e := text.Parse(benchText, text.Options{ParseLinks: true, ParseMarkdownLinks: true})
	if len(e.Links) != 3 || len(e.Mentions) != 2 || len(e.Tags) != 2 {
		b.Fatalf("benchmark post is not what it claims: %+v", e)
	}
	users := map[int64]*models.User{}
	for i := range e.Mentions {
		e.Mentions[i].ID = strconv.Itoa(900 + i)
		users[int64(900+i)] = &models.User{ID: int64(900 + i), Username: e.Mentions[i].Text, Type: models.UserHuman}
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	posts := make([]*models.Post, 20)
	for i := range posts {
		author := &models.User{
			ID: int64(i + 1), Username: "user" + strconv.Itoa(i), Name: "User " + strconv.Itoa(i), Type: models.UserHuman,
			ProfileText: "Writes about servers & <small> things.", Locale: "en_US", Timezone: "UTC",
			PostCount: 1200, FollowerCount: 100, FollowingCount: 100, CreatedAt: now, UpdatedAt: now,
		}
		posts[i] = &models.Post{
			ID: int64(1000 - i), UserID: author.ID, User: author, Text: stored, Entities: e, ThreadID: int64(1000 - i),
			SourceName: "bench", ReplyCount: 3, ThreadCount: 3, CreatedAt: now,
		}
		users[author.ID] = author
	}
	return posts, users
}

// BenchmarkToPosts renders a stream page of 20 posts for a signed-in
// viewer and encodes it as JSON: what every read of a stream costs after
// its queries.
func BenchmarkToPosts(b *testing.B) {
	posts, _ := benchPage(b)
	viewer := convert.Viewer{
		User:      &models.User{ID: 1},
		Relations: graph.Relations{YouFollow: map[int64]bool{2: true}, FollowsYou: map[int64]bool{}, YouMuted: map[int64]bool{}, YouBlocked: map[int64]bool{}},
		PublicURL: "https://pecan.example",
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := json.Marshal(convert.ToPosts(posts, convert.DefaultPostOptions, viewer))
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkToNote renders one post as the ActivityPub Note a fanout sends
// and encodes it.
func BenchmarkToNote(b *testing.B) {
	posts, users := benchPage(b)
	site := convert.Site{Base: "https://pecan.example"}
	nc := convert.NoteContext{Mentioned: users}
	b.ReportAllocs()
	for b.Loop() {
		note := site.ToNote(posts[0], posts[0].User, nc)
		if _, err := json.Marshal(convert.Activity{ID: note.ID + "/activity", Type: "Create", Actor: note.AttributedTo, Object: note}); err != nil {
			b.Fatal(err)
		}
	}
}
