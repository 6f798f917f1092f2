package convert_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// TestPostEntitiesShowAsStored: a post's entities in the API are what
// models.Entities writes (and stores): every list there, [] when empty,
// each entity with the fields it has.
func TestPostEntitiesShowAsStored(t *testing.T) {
	amended := 20
	_, parsed := text.Parse("hi @bob, see [docs](https://pnut.io/docs) and https://example.com #Pecan", text.Options{ParseLinks: true, ParseMarkdownLinks: true})
	for _, e := range []models.Entities{
		{},
		{Links: []models.Link{}, Mentions: nil, Tags: []models.Tag{}},
		parsed,
		{Links: []models.Link{{URL: "https://a.example", Text: "a", Pos: 1, Len: 2, AmendedLen: &amended, Title: "A"}},
			Mentions: []models.Mention{{ID: "7", Text: "amy", Pos: 0, Len: 4, IsLeading: true, IsCopy: true}}},
	} {
		stored, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		post := convert.ToPost(&models.Post{ID: 1, Text: "x", Entities: e, User: &models.User{ID: 2}}, convert.DefaultPostOptions, convert.Viewer{})
		shown, err := json.Marshal(post.Content.Entities)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(shown, stored) {
			t.Errorf("entities %+v shown as\n%s\nstored as\n%s", e, shown, stored)
		}
	}
}
