package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/text"
	"github.com/pecan-social/pecan/app/tokens"
	"github.com/pecan-social/pecan/federation"
	"github.com/pecan-social/pecan/models"
)

// Seeding writes the rows Pecan itself would have written for the same
// history — users with keys, follows with their counts, posts with their
// mention and tag index rows, reply and thread counts — straight through
// bun in batches, which is minutes faster than the API for 200k posts.
// Tokens are issued by app/tokens. Ids are assigned here so replies can
// name their thread before it is written; PostgreSQL's sequences are moved
// past them at the end.

// seedPlan is how much to write and where the fanout followers live.
type seedPlan struct {
	Users, Posts, Follows int
	Active                int // users with tokens, who read and write in the scenarios
	FanoutFollowers       int
	Servers               []string // remote hosts ("127.0.0.2:port", …) for fanout followers
	Seed                  uint64
}

// seedAuthor is a local user with a token.
type seedAuthor struct {
	ID       int64
	Username string
	Token    string
}

// seeded is what the scenarios need to know about the data.
type seeded struct {
	Active        []seedAuthor
	Usernames     func(n int) string
	Users         int
	ThreadRoots   []int64
	TopTags       []string
	FanoutShared  seedAuthor        // followed by FanoutFollowers remote users on shared inboxes
	FanoutInboxes seedAuthor        // followed by as many on personal inboxes only
	PublicKeys    map[string]string // local username → public key PEM, for the fanout receiver
	Rows          map[string]int
	Took          time.Duration
}

// followRow is one row of the follows table, which has no model of its own
// (app/database writes it with raw SQL).
type followRow struct {
	bun.BaseModel `bun:"table:follows"`

	ID         int64     `bun:"id,pk"`
	FollowerID int64     `bun:"follower_id"`
	FolloweeID int64     `bun:"followee_id"`
	CreatedAt  time.Time `bun:"created_at"`
	APID       *string   `bun:"ap_id"`
	Remote     bool      `bun:"remote_follower"`
}

const (
	seedBatch   = 1000
	keyPoolSize = 4 // seeded accounts share a few RSA keys: making 3,000 would take minutes
	replyEvery  = 10
	threadSpan  = 2000 // one thread root per this many posts
	tokenLabel  = "pecan-bench"
)

// seeder holds the state of one seeding run.
type seeder struct {
	db    *database.DB
	plan  seedPlan
	rng   *rand.Rand
	texts *textFactory
	keys  [][2]string // private, public PEM
	now   time.Time
	out   *seeded
	logf  func(string, ...any)

	authors     []int64 // author of post i+1
	followers   []int64 // follower_count by user id
	replyCounts map[int64]int64
}

func seedDatabase(ctx context.Context, db *database.DB, plan seedPlan, logf func(string, ...any)) (*seeded, error) {
	start := time.Now()
	if plan.Users < 3 {
		return nil, fmt.Errorf("seed: want at least 3 users, got %d", plan.Users)
	}
	plan.Follows = min(plan.Follows, plan.Users-1)
	plan.Active = min(plan.Active, plan.Users)
	width := max(4, len(strconv.Itoa(plan.Users)))
	s := &seeder{
		db: db, plan: plan, rng: newRand(plan.Seed),
		texts: newTextFactory(width), now: time.Now().UTC().Truncate(time.Second), logf: logf,
		out: &seeded{Users: plan.Users, PublicKeys: map[string]string{}, Rows: map[string]int{}},
	}
	s.out.Usernames = s.texts.username
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"keys", s.makeKeys},
		{"plan", s.planHistory},
		{"users", s.insertUsers},
		{"follows", s.insertFollows},
		{"posts", s.insertPosts},
		{"tokens", s.issueTokens},
		{"finish", s.finish},
	}
	for _, step := range steps {
		t := time.Now()
		if err := step.fn(ctx); err != nil {
			return nil, fmt.Errorf("seed %s: %w", step.name, err)
		}
		logf("seed: %s done in %s", step.name, time.Since(t).Round(time.Millisecond))
	}
	s.out.Took = time.Since(start)
	return s.out, nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func (s *seeder) makeKeys(context.Context) error {
	s.keys = make([][2]string, keyPoolSize)
	errs := make([]error, keyPoolSize)
	var wg sync.WaitGroup
	for i := range s.keys {
		wg.Go(func() {
			priv, pub, err := federation.GenerateKey()
			s.keys[i], errs[i] = [2]string{priv, pub}, err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Local users are 1..Users, then the two fanout authors, then the remote
// followers.
func (s *seeder) fanoutIDs() (shared, inboxes int64) {
	return int64(s.plan.Users + 1), int64(s.plan.Users + 2)
}

func (s *seeder) lastUserID() int64 {
	return int64(s.plan.Users + 2 + 2*s.plan.FanoutFollowers)
}

// planHistory decides who wrote which post and which posts are replies, so
// users and thread roots can be written with their final counts.
func (s *seeder) planHistory(context.Context) error {
	p := s.plan
	s.authors = make([]int64, p.Posts)
	for i := range s.authors {
		s.authors[i] = 1 + s.rng.Int64N(int64(p.Users))
	}
	s.replyCounts = map[int64]int64{}
	for id := int64(1); id <= int64(p.Posts); id++ {
		if root, ok := s.replyRoot(id); ok {
			s.replyCounts[root]++
		}
	}
	for root := int64(1); root <= s.threadCount() && root <= int64(p.Posts); root++ {
		s.out.ThreadRoots = append(s.out.ThreadRoots, root)
	}
	return nil
}

func (s *seeder) threadCount() int64 { return max(1, int64(s.plan.Posts/threadSpan)) }

// replyRoot says whether post id is a reply, and to which thread root.
// Every tenth post after the roots replies to one, round robin.
func (s *seeder) replyRoot(id int64) (int64, bool) {
	roots := s.threadCount()
	if id <= roots || id%replyEvery != 0 {
		return 0, false
	}
	return 1 + (id/replyEvery)%roots, true
}

func (s *seeder) insertUsers(ctx context.Context) error {
	hash, err := bcrypt.GenerateFromPassword([]byte("pecan-bench-password"), bcrypt.MinCost)
	if err != nil {
		return err
	}
	postCounts := make([]int64, s.lastUserID()+1)
	for _, a := range s.authors {
		postCounts[a]++
	}
	s.followers = make([]int64, s.lastUserID()+1)
	created := s.now.Add(-time.Duration(s.plan.Posts+3600) * 5 * time.Second)
	batch := make([]*models.User, 0, seedBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := s.db.Bun.NewInsert().Model(&batch).Exec(ctx)
		s.out.Rows["users"] += len(batch)
		batch = batch[:0]
		return err
	}
	sharedID, inboxID := s.fanoutIDs()
	s.countFollowers()
	for id := int64(1); id <= s.lastUserID(); id++ {
		u := s.user(id, sharedID, inboxID, created)
		if !u.Remote() {
			u.PasswordHash = string(hash)
		}
		u.PostCount, u.FollowerCount = postCounts[id], s.followers[id]
		if id <= int64(s.plan.Users) {
			u.FollowingCount = int64(s.plan.Follows)
		} else if id > inboxID {
			u.FollowingCount = 1
		}
		if !u.Remote() {
			s.out.PublicKeys[u.Username] = u.PublicKeyPEM
		}
		if batch = append(batch, u); len(batch) == seedBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// user builds user id: local, a fanout author, or a remote follower.
func (s *seeder) user(id, sharedID, inboxID int64, created time.Time) *models.User {
	key := s.keys[int(id)%len(s.keys)]
	var name string
	switch {
	case id <= int64(s.plan.Users):
		name = s.texts.username(int(id))
	case id == sharedID:
		name = "fanout_shared"
	case id == inboxID:
		name = "fanout_inboxes"
	default:
		return s.remoteUser(id, inboxID, key[1], created)
	}
	return &models.User{
		ID: id, Username: name, UsernameKey: name, Name: "Bench " + name, Type: models.UserHuman,
		ProfileText: "A seeded account of pecan-bench.", Locale: "en_US", Timezone: "UTC",
		PublicKeyPEM: key[1], PrivateKeyPEM: key[0], CreatedAt: created, UpdatedAt: created,
	}
}

// remoteUser is a fanout follower as federation stores one it fetched:
// the first half use their server's shared inbox, the second half have
// none. Followers are spread over the servers round robin.
func (s *seeder) remoteUser(id, inboxID int64, publicPEM string, created time.Time) *models.User {
	n := id - inboxID - 1
	shared := n < int64(s.plan.FanoutFollowers)
	host := s.plan.Servers[int(n)%len(s.plan.Servers)]
	prefix := "r"
	if !shared {
		prefix = "p"
	}
	local := prefix + strconv.FormatInt(n, 10)
	actor := "http://" + host + "/users/" + local
	name := local + "@" + host
	keyID := actor + "#main-key"
	u := &models.User{
		ID: id, Username: name, UsernameKey: name, Name: "Remote " + local, Type: models.UserHuman,
		Locale: "en_US", Timezone: "UTC", Domain: host, ActorID: &actor, InboxURL: actor + "/inbox",
		ProfileURL: actor, KeyID: &keyID, PublicKeyPEM: publicPEM, FetchedAt: &created,
		CreatedAt: created, UpdatedAt: created,
	}
	if shared {
		u.SharedInboxURL = "http://" + host + "/inbox"
	}
	return u
}

// followees picks whom local user id follows: Follows others, at random.
func (s *seeder) followees(id int64) []int64 {
	rng := rand.New(rand.NewPCG(s.plan.Seed, uint64(id)))
	picked := map[int64]bool{id: true}
	out := make([]int64, 0, s.plan.Follows)
	for len(out) < s.plan.Follows {
		other := 1 + rng.Int64N(int64(s.plan.Users))
		if !picked[other] {
			picked[other] = true
			out = append(out, other)
		}
	}
	return out
}

func (s *seeder) countFollowers() {
	for id := int64(1); id <= int64(s.plan.Users); id++ {
		for _, f := range s.followees(id) {
			s.followers[f]++
		}
	}
	sharedID, inboxID := s.fanoutIDs()
	s.followers[sharedID] = int64(s.plan.FanoutFollowers)
	s.followers[inboxID] = int64(s.plan.FanoutFollowers)
}

// insertFollows writes every follow in one transaction.
func (s *seeder) insertFollows(ctx context.Context) error {
	return s.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return s.writeFollows(ctx, tx) })
}

func (s *seeder) writeFollows(ctx context.Context, tx bun.Tx) error {
	var nextID int64
	batch := make([]followRow, 0, seedBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := tx.NewInsert().Model(&batch).Exec(ctx)
		s.out.Rows["follows"] += len(batch)
		batch = batch[:0]
		return err
	}
	add := func(follower, followee int64, apID *string) error {
		nextID++
		batch = append(batch, followRow{ID: nextID, FollowerID: follower, FolloweeID: followee, CreatedAt: s.now.Add(-time.Hour), APID: apID, Remote: apID != nil})
		if len(batch) == seedBatch {
			return flush()
		}
		return nil
	}
	for id := int64(1); id <= int64(s.plan.Users); id++ {
		for _, f := range s.followees(id) {
			if err := add(id, f, nil); err != nil {
				return err
			}
		}
	}
	sharedID, inboxID := s.fanoutIDs()
	for id := inboxID + 1; id <= s.lastUserID(); id++ {
		followee := sharedID
		if id-inboxID > int64(s.plan.FanoutFollowers) {
			followee = inboxID
		}
		apID := "http://" + s.plan.Servers[int(id-inboxID-1)%len(s.plan.Servers)] + "/follows/" + strconv.FormatInt(id, 10)
		if err := add(id, followee, &apID); err != nil {
			return err
		}
	}
	return flush()
}

// postRows is one batch of posts with their index rows.
type postRows struct {
	posts    []*models.Post
	mentions []models.PostMention
	tags     []models.PostTag
}

// txBatches is how many batches share a transaction: fewer commits, and
// still statements of a reasonable size.
const txBatches = 10

// insertPosts writes the posts oldest first, one every five seconds up to
// now, with their mention and tag rows. One goroutine builds the next
// batches while this one writes.
func (s *seeder) insertPosts(ctx context.Context) error {
	first := s.now.Add(-time.Duration(s.plan.Posts) * 5 * time.Second)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan postRows, 2)
	go func() {
		defer close(batches)
		for start := int64(1); start <= int64(s.plan.Posts); start += seedBatch {
			select {
			case batches <- s.postBatch(start, min(start+seedBatch-1, int64(s.plan.Posts)), first):
			case <-ctx.Done():
				return
			}
		}
	}()
	for more := true; more; {
		err := s.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for range txBatches {
				rows, ok := <-batches
				if !ok {
					more = false
					return nil
				}
				if err := s.writePosts(ctx, tx, rows); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) writePosts(ctx context.Context, tx bun.Tx, rows postRows) error {
	// in_global is not a model field: InsertPost sets it the same way.
	if _, err := tx.NewInsert().Model(&rows.posts).Value("in_global", "?", true).Exec(ctx); err != nil {
		return err
	}
	if len(rows.mentions) > 0 {
		if _, err := tx.NewInsert().Model(&rows.mentions).Exec(ctx); err != nil {
			return err
		}
	}
	if len(rows.tags) > 0 {
		if _, err := tx.NewInsert().Model(&rows.tags).Exec(ctx); err != nil {
			return err
		}
	}
	s.out.Rows["posts"] += len(rows.posts)
	s.out.Rows["post_mentions"] += len(rows.mentions)
	s.out.Rows["post_tags"] += len(rows.tags)
	return nil
}

func (s *seeder) postBatch(start, end int64, first time.Time) postRows {
	posts := make([]*models.Post, 0, end-start+1)
	var mentions []models.PostMention
	var tags []models.PostTag
	for id := start; id <= end; id++ {
		p := s.post(id, first)
		posts = append(posts, p)
		seen := map[int64]bool{}
		for _, m := range p.Entities.Mentions {
			uid, _ := strconv.ParseInt(m.ID, 10, 64)
			if !seen[uid] {
				seen[uid] = true
				mentions = append(mentions, models.PostMention{PostID: id, UserID: uid, Leading: m.IsLeading})
			}
		}
		seenTag := map[string]bool{}
		for _, t := range p.Entities.Tags {
			if n := text.NormalizeTag(t.Text); !seenTag[n] {
				seenTag[n] = true
				tags = append(tags, models.PostTag{PostID: id, Tag: n})
			}
		}
	}
	return postRows{posts: posts, mentions: mentions, tags: tags}
}

// post builds post id as the app would have stored it.
func (s *seeder) post(id int64, first time.Time) *models.Post {
	author := s.authors[id-1]
	a := s.otherUser(author, 0)
	b := s.otherUser(author, a)
	ref := func(uid int64) mentionRef { return mentionRef{ID: uid, Username: s.texts.username(int(uid))} }
	tagA, tagB := s.pickTag(), s.pickTag()
	for tagB == tagA {
		tagB = s.pickTag()
	}
	txt, e := s.texts.fill(int(s.rng.IntN(len(postTemplates))), id, ref(a), ref(b), tagA, tagB)
	p := &models.Post{
		ID: id, UserID: author, Text: txt, Entities: e, ThreadID: id, SourceName: tokenLabel,
		CreatedAt: first.Add(time.Duration(id) * 5 * time.Second), ReplyCount: s.replyCounts[id], ThreadCount: s.replyCounts[id],
	}
	if root, ok := s.replyRoot(id); ok {
		p.ReplyTo, p.ThreadID = &root, root
	}
	return p
}

// otherUser picks a random local user other than the author and not.
func (s *seeder) otherUser(author, not int64) int64 {
	for {
		id := 1 + s.rng.Int64N(int64(s.plan.Users))
		if id != author && id != not {
			return id
		}
	}
}

// tagWeightSum is the sum of the tags' weights, 1/(k+1) for tag k.
var tagWeightSum = func() float64 {
	var total float64
	for k := range tagNames {
		total += 1 / float64(k+1)
	}
	return total
}()

// pickTag favours the first tags: tag k with weight 1/(k+1).
func (s *seeder) pickTag() string {
	x := s.rng.Float64() * tagWeightSum
	for k, name := range tagNames {
		if x -= 1 / float64(k+1); x <= 0 {
			return name
		}
	}
	return tagNames[len(tagNames)-1]
}

// issueTokens gives the active users and the fanout authors a token each,
// through app/tokens as `pecan token create` would.
func (s *seeder) issueTokens(ctx context.Context) error {
	issuer := tokens.New(s.db, time.Now)
	scopes, err := models.ParseScopes("basic,stream,write_post,follow")
	if err != nil {
		return err
	}
	issue := func(id int64, name string) (seedAuthor, error) {
		raw, _, err := issuer.Issue(ctx, &models.User{ID: id, Username: name}, tokens.NewToken{Label: tokenLabel, Scopes: scopes})
		return seedAuthor{ID: id, Username: name, Token: raw}, err
	}
	for id := 1; id <= s.plan.Active; id++ {
		a, err := issue(int64(id), s.texts.username(id))
		if err != nil {
			return err
		}
		s.out.Active = append(s.out.Active, a)
	}
	sharedID, inboxID := s.fanoutIDs()
	if s.out.FanoutShared, err = issue(sharedID, "fanout_shared"); err != nil {
		return err
	}
	s.out.FanoutInboxes, err = issue(inboxID, "fanout_inboxes")
	s.out.Rows["tokens"] = len(s.out.Active) + 2
	for _, name := range tagNames[:min(5, len(tagNames))] {
		s.out.TopTags = append(s.out.TopTags, name)
	}
	return err
}

// finish moves PostgreSQL's id sequences past the ids written here and
// gathers planner statistics on the tables it filled, as autovacuum would
// on a server that grew this data over time. The tables it left empty
// keep none, as on such a server: analyzed empty, deliveries looked empty
// to PostgreSQL for the whole run, and the queue's statements, planned at
// start-up, read all of it at every claim. SQLite's AUTOINCREMENT follows
// explicit ids itself, and Pecan never runs ANALYZE on SQLite, so neither
// does seeding.
//
// It ends with a CHECKPOINT: seeding writes about 500 MB of WAL in seconds,
// which otherwise starts a checkpoint during the first runs, and the full
// page images written after it put the seed's cost into their latency.
func (s *seeder) finish(ctx context.Context) error {
	if !s.db.IsPostgres() {
		return nil
	}
	for _, table := range []string{"users", "follows", "posts"} {
		q := "SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT max(id) FROM ?))"
		if _, err := s.db.Bun.ExecContext(ctx, q, table, bun.Ident(table)); err != nil {
			return fmt.Errorf("move sequence of %s: %w", table, err)
		}
	}
	if _, err := s.db.Bun.ExecContext(ctx, "ANALYZE users, tokens, follows, posts, post_mentions, post_tags"); err != nil {
		return fmt.Errorf("analyze seeded tables: %w", err)
	}
	if _, err := s.db.Bun.ExecContext(ctx, "CHECKPOINT"); err != nil {
		// Only superusers and pg_checkpoint may; the runs are noisier without.
		s.logf("seed: no checkpoint after seeding: %v", err)
	}
	return nil
}
