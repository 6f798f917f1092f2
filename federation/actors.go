package federation

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// actorDoc is what Pecan reads of a remote actor.
type actorDoc struct {
	ID                string          `json:"id"`
	Type              string          `json:"type"`
	PreferredUsername string          `json:"preferredUsername"`
	Name              string          `json:"name"`
	Summary           string          `json:"summary"`
	URL               json.RawMessage `json:"url"`
	Inbox             string          `json:"inbox"`
	SharedInbox       string          `json:"sharedInbox"`
	Endpoints         struct {
		SharedInbox string `json:"sharedInbox"`
	} `json:"endpoints"`
	PublicKey struct {
		ID           string `json:"id"`
		Owner        string `json:"owner"`
		PublicKeyPem string `json:"publicKeyPem"`
	} `json:"publicKey"`
}

// userTypes maps actor types to pnut user types: bots are Services and
// Applications; Groups and Organizations speak for many, like a feed.
var userTypes = map[string]models.UserType{
	"Person": models.UserHuman, "Service": models.UserBot, "Application": models.UserBot,
	"Group": models.UserFeed, "Organization": models.UserFeed,
}

// actorRefresh is how old a stored remote actor may be before it is fetched
// again on use.
const actorRefresh = 24 * time.Hour

// RemoteActor returns the remote user with this actor id, fetching the
// actor when it is unknown, stale, or refresh is asked.
func (s *Service) RemoteActor(ctx context.Context, actorID string, refresh bool) (*models.User, error) {
	if _, local := s.site.LocalUsername(actorID); local {
		return nil, fmt.Errorf("actor %s is local", actorID)
	}
	if !refresh {
		u, err := s.db.UserByActorID(ctx, actorID)
		if err == nil && u.FetchedAt != nil && s.now().Sub(*u.FetchedAt) < actorRefresh {
			return u, nil
		}
		if err != nil && !errors.Is(err, database.ErrNotFound) {
			return nil, err
		}
	}
	var doc actorDoc
	if err := s.fetchObject(ctx, actorID, &doc); err != nil {
		return nil, err
	}
	return s.saveActor(ctx, doc)
}

// saveActor checks an actor document and stores it as a remote user.
func (s *Service) saveActor(ctx context.Context, doc actorDoc) (*models.User, error) {
	u, err := s.userFromActor(doc)
	if err != nil {
		return nil, err
	}
	saved, err := s.db.SaveRemoteUser(ctx, u)
	if errors.Is(err, database.ErrDuplicate) {
		// Another actor on the same host has the same preferredUsername
		// (Lemmy's /u/foo and /c/foo): give this one a name of its own.
		disambiguate(u)
		saved, err = s.db.SaveRemoteUser(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	s.keys.forget(*u.KeyID)
	return saved, nil
}

func (s *Service) userFromActor(doc actorDoc) (*models.User, error) {
	id, err := url.Parse(doc.ID)
	if err != nil || id.Host == "" || (id.Scheme != "https" && id.Scheme != "http") {
		return nil, fmt.Errorf("actor id %q is not a URL", doc.ID)
	}
	typ, ok := userTypes[doc.Type]
	if !ok {
		return nil, fmt.Errorf("actor %s: type %q is not an actor", doc.ID, doc.Type)
	}
	if doc.PreferredUsername == "" || strings.ContainsAny(doc.PreferredUsername, "@/ ") || len(doc.PreferredUsername) > 100 {
		return nil, fmt.Errorf("actor %s: bad preferredUsername %q", doc.ID, doc.PreferredUsername)
	}
	if doc.PublicKey.Owner != doc.ID || doc.PublicKey.ID == "" {
		return nil, fmt.Errorf("actor %s: its key is owned by %q", doc.ID, doc.PublicKey.Owner)
	}
	if _, err := ParsePublicKey(doc.PublicKey.PublicKeyPem); err != nil {
		return nil, fmt.Errorf("actor %s: %w", doc.ID, err)
	}
	if !sameHost(doc.Inbox, doc.ID) {
		return nil, fmt.Errorf("actor %s: inbox %q on another host", doc.ID, doc.Inbox)
	}
	shared := doc.Endpoints.SharedInbox
	if shared == "" {
		shared = doc.SharedInbox
	}
	if shared != "" && !sameHost(shared, doc.ID) {
		shared = ""
	}
	now := s.clock()
	host := strings.ToLower(id.Host)
	name := doc.PreferredUsername + "@" + host
	return &models.User{
		Username: name, UsernameKey: strings.ToLower(name), Name: truncateRunes(doc.Name, 100), Type: typ,
		ProfileText: truncateRunes(ParseContent(doc.Summary, nil).Text, 1000),
		Locale:      "en_US", Timezone: "UTC", Domain: host, ActorID: &doc.ID,
		InboxURL: doc.Inbox, SharedInboxURL: shared, ProfileURL: profileURL(doc.URL, doc.ID),
		KeyID: &doc.PublicKey.ID, PublicKeyPEM: doc.PublicKey.PublicKeyPem,
		FetchedAt: &now, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// disambiguate renames a remote user whose name@host is taken by another
// actor: name-<6 hex digits of its actor id>@host, the same every time.
func disambiguate(u *models.User) {
	name, host, _ := strings.Cut(u.Username, "@")
	sum := sha256.Sum256([]byte(*u.ActorID))
	u.Username = name + "-" + hex.EncodeToString(sum[:3]) + "@" + host
	u.UsernameKey = strings.ToLower(u.Username)
}

// profileURL reads an actor's url, which may be a string, a Link object or
// a list of either.
func profileURL(raw json.RawMessage, fallback string) string {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s
	}
	var link struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &link) == nil && link.Href != "" {
		return link.Href
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return profileURL(list[0], fallback)
	}
	return fallback
}

func sameHost(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ua.Host != "" && strings.EqualFold(ua.Host, ub.Host)
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// keyCache keeps parsed public keys and their owners for a while, so a
// busy inbox does not parse PEM (or hit the database) on every request.
type keyCache struct {
	ttl  time.Duration
	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key     *rsa.PublicKey
	owner   *models.User
	until   time.Time
	fetched time.Time // when the owner's document was last fetched
}

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, keys: map[string]cachedKey{}}
}

func (c *keyCache) get(keyID string, now time.Time) (cachedKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[keyID]
	return k, ok && now.Before(k.until)
}

func (c *keyCache) put(keyID string, k cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) > 10000 {
		clear(c.keys) // crude bound; keys come back from the database
	}
	c.keys[keyID] = k
}

func (c *keyCache) forget(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, keyID)
}

// lookupKey finds the public key that signed an inbound request and its
// owner: from the cache, the database, or by fetching the key's actor.
// refresh refetches the actor, for a key that has rotated.
func (s *Service) lookupKey(ctx context.Context, keyID string, refresh bool) (*rsa.PublicKey, *models.User, error) {
	if sameHost(keyID, s.site.Base) {
		// This instance's own keys sign only what it sends; a request
		// presenting one is a replay or a forgery, never a remote actor.
		return nil, nil, fmt.Errorf("key %s is this instance's own", keyID)
	}
	now := s.now()
	if k, ok := s.keys.get(keyID, now); ok && (!refresh || now.Sub(k.fetched) < minRefetch) {
		return k.key, k.owner, nil
	}
	if u, err := s.db.UserByKeyID(ctx, keyID); err == nil && (!refresh || (u.FetchedAt != nil && now.Sub(*u.FetchedAt) < minRefetch)) {
		return s.cacheKey(keyID, u, now)
	}
	u, err := s.fetchKeyOwner(ctx, keyID)
	if err != nil {
		return nil, nil, err
	}
	return s.cacheKey(keyID, u, now)
}

func (s *Service) cacheKey(keyID string, u *models.User, now time.Time) (*rsa.PublicKey, *models.User, error) {
	key, err := ParsePublicKey(u.PublicKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	fetched := now
	if u.FetchedAt != nil {
		fetched = *u.FetchedAt
	}
	s.keys.put(keyID, cachedKey{key: key, owner: u, until: now.Add(s.keys.ttl), fetched: fetched})
	return key, u, nil
}

// minRefetch is how soon after fetching an actor a signature that does
// not verify may make Pecan fetch it again: a rotated key is picked up at
// once, but forged signatures cannot make Pecan fetch on every request.
const minRefetch = time.Minute

// fetchKeyOwner dereferences a key id: Mastodon's "actor#main-key" is the
// actor with a fragment; GoToSocial's "actor/main-key" serves a minimal
// actor. Either way the actor document must carry exactly this key.
func (s *Service) fetchKeyOwner(ctx context.Context, keyID string) (*models.User, error) {
	at := keyID
	if i := strings.IndexByte(at, '#'); i >= 0 {
		at = at[:i]
	}
	body, err := s.fetch(ctx, at)
	if err != nil {
		return nil, err
	}
	var doc actorDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("key %s: %w", keyID, err)
	}
	if doc.PublicKey.ID != keyID {
		return nil, fmt.Errorf("key %s: the document at %s carries key %q", keyID, at, doc.PublicKey.ID)
	}
	if doc.ID != at {
		// A key document that is not the actor itself: take the actor
		// from its owner, which must say the same key.
		u, err := s.RemoteActor(ctx, doc.PublicKey.Owner, true)
		if err == nil && (u.KeyID == nil || *u.KeyID != keyID) {
			err = fmt.Errorf("key %s: its owner %s does not carry it", keyID, doc.PublicKey.Owner)
		}
		return u, err
	}
	return s.saveActor(ctx, doc)
}
