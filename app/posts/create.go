package posts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/models"
)

// Input is the body of a create or a revise.
type Input struct {
	Text               string
	ReplyTo            *int64
	IsNSFW             *bool // nil: #nsfw in the text decides
	Raw                json.RawMessage
	ParseLinks         bool
	ParseMarkdownLinks bool
	Crosspost          *models.CrosspostChoice // where else a new post goes; nil: nowhere
}

// Processed is text after the text rules: what would be stored and shown.
type Processed struct {
	Text      string
	Entities  models.Entities
	Mentioned []*models.User // the users of Entities.Mentions, each once
}

// Process parses, measures and resolves mentions without storing anything:
// POST /text/process, and the first step of every create and revise.
func (p *Processor) Process(ctx context.Context, in Input) (Processed, error) {
	// Markdown URLs do not count against the limit, so the input may be
	// longer than the post; but not without bound, or parsing becomes work
	// an anonymous caller can make the server do.
	if n := utf8.RuneCountInString(in.Text); n > p.rules.MaxInputLength {
		return Processed{}, errs.Invalid("text", "text_too_long", "text is %d characters before markdown links are rewritten; the limit is %d", n, p.rules.MaxInputLength)
	}
	stored, entities := text.Parse(in.Text, text.Options{ParseLinks: in.ParseLinks, ParseMarkdownLinks: in.ParseMarkdownLinks})
	if strings.TrimSpace(stored) == "" {
		return Processed{}, errs.Invalid("text", "text_missing", "text must not be empty")
	}
	if n := text.Length(stored, entities); n > p.rules.MaxLength {
		return Processed{}, errs.Invalid("text", "text_too_long", "text is %d characters; the limit is %d", n, p.rules.MaxLength)
	}
	mentions, users, err := p.resolveMentions(ctx, entities.Mentions)
	if err != nil {
		return Processed{}, err
	}
	entities.Mentions = mentions
	return Processed{Text: stored, Entities: entities, Mentioned: users}, nil
}

// resolveMentions keeps the mentions of users that exist, with their ids,
// and returns those users.
func (p *Processor) resolveMentions(ctx context.Context, mentions []models.Mention) ([]models.Mention, []*models.User, error) {
	if len(mentions) == 0 {
		return mentions, []*models.User{}, nil
	}
	keys := make([]string, len(mentions))
	for i, m := range mentions {
		keys[i] = strings.ToLower(m.Text)
	}
	users, err := p.usersNamed(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	p.resolveHandles(ctx, keys, users)
	out := make([]models.Mention, 0, len(mentions))
	mentioned := []*models.User{} // none found is known, not unknown (nil)
	for _, m := range mentions {
		if u, ok := users[strings.ToLower(m.Text)]; ok {
			m.ID = strconv.FormatInt(u.ID, 10)
			out = append(out, m)
			if !slices.Contains(mentioned, u) {
				mentioned = append(mentioned, u)
			}
		}
	}
	return out, mentioned, nil
}

// usersNamed finds the users of the (lower-cased) usernames: the local
// users among them from memory if they were mentioned before, since a
// local user's name and id never change; the others from the database.
func (p *Processor) usersNamed(ctx context.Context, keys []string) (map[string]*models.User, error) {
	users := make(map[string]*models.User, len(keys))
	var unknown []string
	for _, key := range keys {
		if u, ok := p.localUsers.get(key); ok {
			users[key] = u
		} else if !slices.Contains(unknown, key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) == 0 {
		return users, nil
	}
	found, err := p.db.UsersByIDsOrNames(ctx, nil, unknown)
	if err != nil {
		return nil, err
	}
	for _, u := range found {
		users[u.UsernameKey] = u
		if !u.Remote() {
			p.localUsers.put(u.UsernameKey, identity(u))
		}
	}
	return users, nil
}

// identity is what of a local user never changes: what a mention needs.
// Pecan neither renames nor deletes local users; should it ever, the
// processor's localUsers must forget them.
func identity(u *models.User) *models.User {
	return &models.User{ID: u.ID, Username: u.Username, UsernameKey: u.UsernameKey, Type: u.Type, CreatedAt: u.CreatedAt}
}

// maxHandleLookups bounds the handles on other servers one post may make
// Pecan look up.
const maxHandleLookups = 5

// resolveHandles finds the users of @name@host handles not known yet, on
// their servers; a handle that cannot be found stays plain text.
func (p *Processor) resolveHandles(ctx context.Context, keys []string, users map[string]*models.User) {
	if p.resolver == nil {
		return
	}
	looked := 0
	for _, key := range keys {
		name, host, remote := strings.Cut(key, "@")
		if _, known := users[key]; known || !remote || looked == maxHandleLookups {
			continue
		}
		looked++
		if u, err := p.resolver.ResolveHandle(ctx, name, host); err == nil {
			users[key] = u
		}
	}
}

// Create makes a post. With an idempotency key, a repeat of a request that
// succeeded returns the post it made instead of making another.
func (p *Processor) Create(ctx context.Context, author *models.User, in Input, idempotencyKey, source string) (*models.Post, error) {
	if idempotencyKey == "" {
		return p.create(ctx, author, in, source)
	}
	return p.idempotent(ctx, author, idempotencyKey, func() (*models.Post, error) {
		return p.create(ctx, author, in, source)
	})
}

func (p *Processor) create(ctx context.Context, author *models.User, in Input, source string) (*models.Post, error) {
	raw, err := p.parseRaw(in.Raw)
	if err != nil {
		return nil, err
	}
	processed, err := p.Process(ctx, in)
	if err != nil {
		return nil, err
	}
	post := &models.Post{
		UserID: author.ID, Text: processed.Text, Entities: processed.Entities, Raw: raw,
		IsNSFW: nsfw(in.IsNSFW, processed.Entities), SourceName: source, CreatedAt: p.clock(), User: author,
		Mentioned: processed.Mentioned,
	}
	release, err := p.claimDuplicateWindow(ctx, author, processed.Text)
	if err != nil {
		return nil, err
	}
	if err := p.write(ctx, post, in); err != nil {
		release()
		return nil, err
	}
	return post, nil
}

// write stores a new post with the news of it: in one statement when no
// one hears of it, else in a transaction with its events and crossposts.
func (p *Processor) write(ctx context.Context, post *models.Post, in Input) error {
	if p.mayWriteAlone(post, in) {
		count, written, err := p.db.CreateUnheardPost(ctx, post, mentionRows(post), tagSet(post.Entities))
		if err != nil {
			return err
		}
		if written {
			withPostCount(post, count)
			return nil
		}
	}
	err := p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := p.insert(ctx, q, post, in.ReplyTo); err != nil {
			return err
		}
		return p.crosspost(ctx, q, post, in.Crosspost)
	})
	if err == nil && post.Listeners != nil {
		p.rememberHeard(post.UserID, *post.Listeners != models.Listeners{})
	}
	return err
}

// rememberHeard notes whether the author's post written in a transaction
// was heard of, and so whether their next one is worth trying alone.
func (p *Processor) rememberHeard(authorID int64, heard bool) {
	if heard {
		p.heardAuthors.put(authorID, struct{}{})
	} else {
		p.heardAuthors.delete(authorID)
	}
}

// mayWriteAlone reports whether the post could be written without its
// events: it is no reply and goes nowhere else, the sinks would write
// nothing for it if no one listens, and its author's last post was not
// heard (which makes a try alone a wasted round trip).
func (p *Processor) mayWriteAlone(post *models.Post, in Input) bool {
	return in.ReplyTo == nil && in.Crosspost == nil && !p.heardAuthors.has(post.UserID) &&
		events.QuietIfUnheard(p.events, createdEvents(post))
}

func (p *Processor) crosspost(ctx context.Context, q database.Queries, post *models.Post, choice *models.CrosspostChoice) error {
	if choice == nil {
		return nil
	}
	if p.crossposter == nil {
		return errs.Invalid("crosspost", "crosspost_unavailable", "this server does not crosspost")
	}
	return p.crossposter.Crosspost(ctx, q, post, *choice)
}

func nsfw(explicit *bool, e models.Entities) bool {
	if explicit != nil {
		return *explicit
	}
	return slices.ContainsFunc(e.Tags, func(t models.Tag) bool { return text.NormalizeTag(t.Text) == "nsfw" })
}

// claimDuplicateWindow takes the text's slot in the duplicate window, one
// atomic SetNX, so of many identical concurrent posts exactly one gets
// through. Bots are exempt. release frees the slot if the post is not made.
func (p *Processor) claimDuplicateWindow(ctx context.Context, author *models.User, stored string) (func(), error) {
	if author.Type == models.UserBot {
		return func() {}, nil
	}
	sum := sha256.Sum256([]byte(stored))
	key := "dup:" + strconv.FormatInt(author.ID, 10) + ":" + hex.EncodeToString(sum[:])
	ok, err := p.store.SetNX(ctx, key, "1", p.rules.DuplicateWindow)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Conflict("text", "duplicate_post", "you posted the same text in the last %d seconds", int(p.rules.DuplicateWindow.Seconds()))
	}
	return func() { _ = p.store.Delete(context.WithoutCancel(ctx), key) }, nil
}

// insert writes the post, its indexes, its counts and its events.
func (p *Processor) insert(ctx context.Context, q database.Queries, post *models.Post, replyTo *int64) error {
	var parent *models.Post
	if replyTo != nil {
		var err error
		if parent, err = p.target(ctx, q, *replyTo); err != nil {
			if errors.Is(err, errPostNotFound) {
				return errs.Invalid("reply_to", "reply_to_not_found", "the post replied to does not exist or was deleted")
			}
			return err
		}
		post.ReplyTo, post.ThreadID = &parent.ID, parent.ThreadID
	}
	posts, err := q.CreatePost(ctx, post, mentionRows(post), tagSet(post.Entities))
	if err != nil {
		return err
	}
	withPostCount(post, posts)
	if err := p.countReply(ctx, q, post, parent, 1); err != nil {
		return err
	}
	return p.emitCreated(ctx, q, post)
}

// mentionRows is the post's mentioned users, each once; leading if any of
// their mentions is.
func mentionRows(post *models.Post) []models.PostMention {
	var rows []models.PostMention
	seen := map[int64]int{}
	for _, m := range post.Entities.Mentions {
		id, _ := strconv.ParseInt(m.ID, 10, 64)
		if i, dup := seen[id]; dup {
			rows[i].Leading = rows[i].Leading || m.IsLeading
			continue
		}
		seen[id] = len(rows)
		rows = append(rows, models.PostMention{UserID: id, Leading: m.IsLeading})
	}
	return rows
}

// tagSet is the post's normalised tags, each once.
func tagSet(e models.Entities) []string {
	var tags []string
	for _, t := range e.Tags {
		if n := text.NormalizeTag(t.Text); !slices.Contains(tags, n) {
			tags = append(tags, n)
		}
	}
	return tags
}

// count moves the counters a post contributes to by delta (+1 or -1).
// The post's author, if loaded, is given their new post count.
func (p *Processor) count(ctx context.Context, q database.Queries, post, parent *models.Post, delta int) error {
	n, err := q.BumpUserCount(ctx, post.UserID, database.CountPosts, delta)
	if err != nil {
		return err
	}
	withPostCount(post, n)
	return p.countReply(ctx, q, post, parent, delta)
}

// withPostCount gives the post's author, if loaded, their new post count.
func withPostCount(post *models.Post, n int64) {
	if post.User != nil {
		author := *post.User // the caller's copy stays as it was
		author.PostCount = n
		post.User = &author
	}
}

// countReply moves the reply and thread counts of the post's parent and
// thread, if it is a reply, by delta.
func (p *Processor) countReply(ctx context.Context, q database.Queries, post, parent *models.Post, delta int) error {
	if parent == nil {
		return nil
	}
	if err := q.AddToPostCount(ctx, parent.ID, database.CountReplies, delta); err != nil {
		return err
	}
	return q.AddToPostCount(ctx, post.ThreadID, database.CountThread, delta)
}

func (p *Processor) emitCreated(ctx context.Context, q database.Queries, post *models.Post) error {
	if err := events.EmitAll(ctx, p.events, q, createdEvents(post)); err != nil {
		return fmt.Errorf("emit the events of post %d: %w", post.ID, err)
	}
	return nil
}

// createdEvents is the news of a new post: its creation, and a mention of
// each user it mentions.
func createdEvents(post *models.Post) []models.Event {
	all := []models.Event{{Type: models.EventPostCreated, ActorID: post.UserID, PostID: post.ID, At: post.CreatedAt, Post: post}}
	for _, userID := range mentionedUsers(post.Entities) {
		all = append(all, models.Event{Type: models.EventMentionCreated, ActorID: post.UserID, PostID: post.ID, SubjectID: userID, At: post.CreatedAt, Post: post})
	}
	return all
}

// mentionedUsers is each mentioned user once, in order of first mention.
func mentionedUsers(e models.Entities) []int64 {
	var ids []int64
	for _, m := range e.Mentions {
		if id, err := strconv.ParseInt(m.ID, 10, 64); err == nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}
