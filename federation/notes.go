package federation

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/models"
)

// noteDoc is what Pecan reads of a remote Note (or Article, or Page).
type noteDoc struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	AttributedTo json.RawMessage   `json:"attributedTo"`
	Content      string            `json:"content"`
	ContentMap   map[string]string `json:"contentMap"`
	Summary      string            `json:"summary"`
	Sensitive    bool              `json:"sensitive"`
	InReplyTo    json.RawMessage   `json:"inReplyTo"`
	Published    string            `json:"published"`
	Updated      string            `json:"updated"`
	URL          json.RawMessage   `json:"url"`
	Tag          json.RawMessage   `json:"tag"`
	To           json.RawMessage   `json:"to"`
	Cc           json.RawMessage   `json:"cc"`
}

// public reports whether a Note is addressed to the public, in "to"
// (public) or "cc" (unlisted). Pecan has no private posts: a followers-only
// or direct Note is not stored, since every Pecan post is public.
func (n *noteDoc) public() bool {
	for _, raw := range []json.RawMessage{n.To, n.Cc} {
		for _, a := range audience(raw) {
			if a == convert.Public || a == "as:Public" || a == "Public" {
				return true
			}
		}
	}
	return false
}

// audience reads an addressing property: one id or a list of them.
func audience(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	if one := idOf(raw); one != "" {
		return []string{one}
	}
	return nil
}

var noteTypes = map[string]bool{"Note": true, "Article": true, "Page": true, "Question": true}

// maxRemoteMentions bounds how many unknown mentioned actors one Note may
// make Pecan fetch.
const maxRemoteMentions = 8

// onCreate stores a remote post if it concerns this instance: its author
// has local followers, or it mentions a local user, or it replies to a
// post Pecan has.
func (s *Service) onCreate(ctx context.Context, actor *models.User, act activity) error {
	note, err := s.noteOf(ctx, act.Object)
	if err != nil || note == nil {
		return err
	}
	if err := s.checkAuthor(note, actor); err != nil {
		return err
	}
	relevant, err := s.relevant(ctx, actor, note)
	if err != nil || !relevant {
		return err
	}
	_, err = s.storeNote(ctx, actor, note)
	return err
}

// noteOf reads the Note an activity carries inline, or fetches it by id.
func (s *Service) noteOf(ctx context.Context, raw json.RawMessage) (*noteDoc, error) {
	var note noteDoc
	if _, ok := embedded(raw); ok {
		if err := json.Unmarshal(raw, &note); err != nil {
			return nil, errs.Invalid("object", "invalid_object", "the object is not a Note: %v", err)
		}
	} else if err := s.fetchObject(ctx, idOf(raw), &note); err != nil {
		s.logger.InfoContext(ctx, "inbox: cannot fetch a note", "note", idOf(raw), "error", err.Error())
		return nil, nil
	}
	if !noteTypes[note.Type] || !note.public() {
		return nil, nil
	}
	return &note, nil
}

// checkAuthor refuses a Note that is not by the activity's actor or does
// not live on the actor's host.
func (s *Service) checkAuthor(note *noteDoc, actor *models.User) error {
	if idOf(note.AttributedTo) != *actor.ActorID {
		return errs.Forbidden("foreign_object", "note %s is attributed to someone other than the actor", note.ID)
	}
	if !sameHost(note.ID, *actor.ActorID) {
		return errs.Forbidden("foreign_object", "note %s is not on its actor's host", note.ID)
	}
	return nil
}

func (s *Service) relevant(ctx context.Context, actor *models.User, note *noteDoc) (bool, error) {
	if has, err := s.db.HasLocalFollowers(ctx, actor.ID); err != nil || has {
		return has, err
	}
	for _, t := range noteTags(note.Tag) {
		if _, local := s.site.LocalUsername(t.Href); local && t.Type == "Mention" {
			return true, nil
		}
	}
	parent, err := s.postByNoteID(ctx, idOf(note.InReplyTo))
	return parent != nil, err
}

// postByNoteID is the live post, local or remote, a Note id names, or nil.
func (s *Service) postByNoteID(ctx context.Context, id string) (*models.Post, error) {
	if id == "" {
		return nil, nil
	}
	post, err := s.localPost(ctx, id)
	if post == nil && err == nil {
		post, err = s.posts.ByAPID(ctx, id)
	}
	if posts.IsNotFound(err) || (err == nil && post != nil && post.Deleted()) {
		return nil, nil
	}
	return post, err
}

// storeNote stores a remote Note by author, unless it was deleted before.
func (s *Service) storeNote(ctx context.Context, author *models.User, note *noteDoc) (*models.Post, error) {
	if gone, err := s.db.Tombstoned(ctx, note.ID, *author.ActorID); err != nil || gone {
		return nil, err
	}
	n, err := s.remoteNote(ctx, note)
	if err != nil {
		return nil, err
	}
	post, _, err := s.posts.StoreRemote(ctx, author, n)
	return post, err
}

// remoteNote turns a Note into text and entities, with its mentions
// resolved to users and its reply to a post Pecan has.
func (s *Service) remoteNote(ctx context.Context, note *noteDoc) (posts.RemoteNote, error) {
	html := note.Content
	if html == "" {
		for _, v := range note.ContentMap {
			html = v
			break
		}
	}
	content := capEntities(ParseContent(html, noteTags(note.Tag)))
	n := posts.RemoteNote{
		APID: note.ID, URL: profileURL(note.URL, note.ID), Text: content.Text,
		Entities:  models.Entities{Links: content.Links, Tags: content.Tags, Mentions: []models.Mention{}},
		IsNSFW:    note.Sensitive || note.Summary != "",
		CreatedAt: s.pastTime(note.Published),
	}
	mentions, err := s.resolveMentions(ctx, content.Mentions)
	if err != nil {
		return n, err
	}
	n.Entities.Mentions = mentions
	if note.Summary != "" { // a content warning goes first, as readers see it
		n.Text, n.Entities = prefixText(ParseContent(note.Summary, nil).Text+"\n\n", n.Text, n.Entities)
	}
	parent, err := s.postByNoteID(ctx, idOf(note.InReplyTo))
	if err != nil {
		return n, err
	}
	if parent != nil {
		n.ReplyTo = &parent.ID
	}
	return n, nil
}

// maxRemoteEntities bounds each kind of entity a remote post keeps; past
// it, the text stays but is not indexed, so one note cannot make Pecan
// write thousands of rows or look up thousands of users.
const maxRemoteEntities = 100

func capEntities(c Content) Content {
	c.Links = c.Links[:min(len(c.Links), maxRemoteEntities)]
	c.Tags = c.Tags[:min(len(c.Tags), maxRemoteEntities)]
	c.Mentions = c.Mentions[:min(len(c.Mentions), maxRemoteEntities)]
	return c
}

// resolveMentions keeps the mentions of users Pecan knows or can fetch.
func (s *Service) resolveMentions(ctx context.Context, found []RemoteMention) ([]models.Mention, error) {
	out := []models.Mention{}
	fetched := 0
	for _, m := range found {
		u, err := s.localUser(ctx, m.Href)
		if err != nil {
			return nil, err
		}
		if u == nil {
			u, err = s.db.UserByActorID(ctx, m.Href)
			if errors.Is(err, database.ErrNotFound) && fetched < maxRemoteMentions {
				fetched++
				u, err = s.RemoteActor(ctx, m.Href, false)
			}
			if err != nil {
				continue // an actor Pecan cannot find stays plain text
			}
		}
		out = append(out, models.Mention{ID: strconv.FormatInt(u.ID, 10), Text: m.Name, Pos: m.Pos, Len: m.Len})
	}
	return out, nil
}

// prefixText puts prefix before text and moves the entities along.
func prefixText(prefix, text string, e models.Entities) (string, models.Entities) {
	shift := utf8.RuneCountInString(prefix)
	for i := range e.Links {
		e.Links[i].Pos += shift
	}
	for i := range e.Mentions {
		e.Mentions[i].Pos += shift
	}
	for i := range e.Tags {
		e.Tags[i].Pos += shift
	}
	return prefix + text, e
}

// noteTags reads a Note's tag, which may be one object or a list.
func noteTags(raw json.RawMessage) []NoteTag {
	type tag struct {
		Type string `json:"type"`
		Href string `json:"href"`
		Name string `json:"name"`
	}
	var list []tag
	if json.Unmarshal(raw, &list) != nil {
		var one tag
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []tag{one}
	}
	out := make([]NoteTag, len(list))
	for i, t := range list {
		out[i] = NoteTag{Type: t.Type, Href: t.Href, Name: t.Name}
	}
	return out
}

// pastTime reads a timestamp; one missing, unreadable or in the future
// is now.
func (s *Service) pastTime(v string) time.Time {
	now := s.now()
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || t.After(now) {
		return now
	}
	return t
}

// onUpdate applies a newer version of a remote post, or refreshes the
// actor itself.
func (s *Service) onUpdate(ctx context.Context, actor *models.User, act activity) error {
	inner, _ := embedded(act.Object)
	if _, isActor := userTypes[inner.Type]; isActor {
		if inner.ID != *actor.ActorID {
			return errs.Forbidden("foreign_object", "an actor may update only itself")
		}
		if _, err := s.RemoteActor(ctx, inner.ID, true); err != nil {
			s.logger.InfoContext(ctx, "inbox: cannot refresh an updated actor", "actor", inner.ID, "error", err.Error())
		}
		return nil
	}
	note, err := s.noteOf(ctx, act.Object)
	if err != nil || note == nil {
		return err
	}
	if err := s.checkAuthor(note, actor); err != nil {
		return err
	}
	post, err := s.posts.ByAPID(ctx, note.ID)
	if posts.IsNotFound(err) {
		return nil // never stored, or deleted
	}
	if err != nil {
		return err
	}
	if post.UserID != actor.ID || post.Deleted() {
		return nil
	}
	updated, err := time.Parse(time.RFC3339, note.Updated)
	if err != nil || !updated.After(lastChange(post)) {
		return nil // an implicit update (poll counts) or an old one
	}
	n, err := s.remoteNote(ctx, note)
	if err != nil {
		return err
	}
	return s.posts.ReviseRemote(ctx, post, n, updated)
}

func lastChange(p *models.Post) time.Time {
	if p.RevisedAt != nil {
		return *p.RevisedAt
	}
	return p.CreatedAt
}

// onDelete removes a remote post, or everything of an actor that deleted
// itself, and remembers the id so it cannot come back.
func (s *Service) onDelete(ctx context.Context, actor *models.User, act activity) error {
	id := idOf(act.Object)
	if !sameHost(id, *actor.ActorID) {
		return errs.Forbidden("foreign_object", "an actor may delete only objects of its own host")
	}
	if id == *actor.ActorID {
		if err := s.db.AddTombstone(ctx, id, id, s.clock()); err != nil {
			return err
		}
		return s.removeActor(ctx, actor)
	}
	post, err := s.posts.ByAPID(ctx, id)
	if err != nil && !posts.IsNotFound(err) {
		return err
	}
	if err == nil && post.UserID != actor.ID {
		return errs.Forbidden("foreign_object", "%s is not the actor's", id)
	}
	// The tombstone is the actor's: it keeps their own note from coming
	// back, not someone else's note that happens to use the id.
	if err := s.db.AddTombstone(ctx, id, *actor.ActorID, s.clock()); err != nil || post == nil {
		return err
	}
	return s.posts.DeleteRemote(ctx, post)
}

// removeActor ends every follow of a deleted remote actor and deletes
// their posts.
func (s *Service) removeActor(ctx context.Context, actor *models.User) error {
	for before := int64(0); ; {
		list, err := s.db.PostsOfUser(ctx, actor.ID, before, 100)
		if err != nil || len(list) == 0 {
			return s.graph.RemoveAllFollows(ctx, actor)
		}
		for _, p := range list {
			if err := s.posts.DeleteRemote(ctx, p); err != nil {
				return err
			}
			before = p.ID
		}
	}
}

// onAnnounce is a remote user's repost: of a local post, of a remote post
// Pecan has, or of one it fetches because the reposter has local
// followers.
func (s *Service) onAnnounce(ctx context.Context, actor *models.User, act activity) error {
	objectID := idOf(act.Object)
	post, err := s.postByNoteID(ctx, objectID)
	if err != nil {
		return err
	}
	if post == nil {
		if post, err = s.fetchAnnounced(ctx, actor, objectID); err != nil || post == nil {
			return err
		}
	}
	return ignoreMissing(s.posts.RepostRemote(ctx, actor, post.ID, act.ID))
}

func (s *Service) fetchAnnounced(ctx context.Context, reposter *models.User, noteID string) (*models.Post, error) {
	if has, err := s.db.HasLocalFollowers(ctx, reposter.ID); err != nil || !has {
		return nil, err
	}
	var note noteDoc
	if err := s.fetchObject(ctx, noteID, &note); err != nil {
		// The sender cannot help it that the note is gone or private:
		// acknowledge the Announce rather than have it retried for days.
		s.logger.InfoContext(ctx, "inbox: cannot fetch an announced note", "note", noteID, "error", err.Error())
		return nil, nil
	}
	if !noteTypes[note.Type] || !note.public() {
		return nil, nil
	}
	author, err := s.RemoteActor(ctx, idOf(note.AttributedTo), false)
	if err != nil {
		s.logger.InfoContext(ctx, "inbox: cannot fetch an announced note's author", "note", noteID, "error", err.Error())
		return nil, nil
	}
	if err := s.checkAuthor(&note, author); err != nil {
		return nil, err
	}
	return s.storeNote(ctx, author, &note)
}
