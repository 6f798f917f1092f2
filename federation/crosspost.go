package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// CrosspostActivity renders a local post's change (created, revised or
// deleted) as the activity that carries it to one more actor, a crosspost
// target: the usual Create, Update or Delete, addressed to the target and,
// unless the post mentions them already, with their handle leading the
// text, as a reply on Mastodon leads with it, so that the post lands in
// their mentions on any server. ref tells crossposts of one post to
// different targets apart in the activity ids.
func (s *Service) CrosspostActivity(ctx context.Context, q database.Queries, postID int64, event string, target *models.User, ref int64) ([]byte, error) {
	post, err := q.PostByID(ctx, postID)
	if err != nil {
		return nil, err
	}
	if post.User == nil || post.User.Remote() || !target.Remote() {
		return nil, fmt.Errorf("crosspost post %d to %s: only local posts go to remote actors", postID, target.Username)
	}
	actor := s.site.Actor(post.User.Username)
	targetActor := s.site.ActorOf(target)
	id := s.site.NoteOf(post) + "#crosspost/" + strconv.FormatInt(ref, 10)
	var act convert.Activity
	switch event {
	case models.EventPostCreated, models.EventPostRevised:
		note, _, err := s.noteFor(ctx, q, addressedTo(post, target), post.User)
		if err != nil {
			return nil, err
		}
		act = convert.Activity{ID: id, Type: "Create", Actor: actor, Object: note, To: note.To, Cc: note.Cc, Published: note.Published}
		if event == models.EventPostRevised {
			revised := s.clock()
			if post.RevisedAt != nil {
				revised = *post.RevisedAt
			}
			act.ID, act.Type, act.Published = id+"/updates/"+strconv.FormatInt(revised.Unix(), 10), "Update", ""
		}
	case models.EventPostDeleted:
		act = convert.Activity{ID: id + "/delete", Type: "Delete", Actor: actor, Object: s.site.ToTombstone(post),
			To: []string{convert.Public}, Cc: []string{targetActor}}
	default:
		return nil, fmt.Errorf("crosspost post %d: no activity for %s", postID, event)
	}
	act.Context = []string{convert.ASContext}
	body, err := json.Marshal(act)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", act.Type, err)
	}
	return body, nil
}

// addressedTo is the post with target's handle leading its text, unless
// it mentions them already.
func addressedTo(post *models.Post, target *models.User) *models.Post {
	id := strconv.FormatInt(target.ID, 10)
	for _, m := range post.Entities.Mentions {
		if m.ID == id {
			return post
		}
	}
	prefix := "@" + target.Username + " "
	shift := utf8.RuneCountInString(prefix)
	out := *post
	out.Text = prefix + post.Text
	e := models.Entities{
		Links: append([]models.Link(nil), post.Entities.Links...),
		Tags:  append([]models.Tag(nil), post.Entities.Tags...),
		Mentions: append([]models.Mention{{ID: id, Text: target.Username, Pos: 0, Len: shift - 1, IsLeading: true}},
			post.Entities.Mentions...),
	}
	for i := range e.Links {
		e.Links[i].Pos += shift
	}
	for i := 1; i < len(e.Mentions); i++ {
		e.Mentions[i].Pos += shift
	}
	for i := range e.Tags {
		e.Tags[i].Pos += shift
	}
	out.Entities = e
	return &out
}
