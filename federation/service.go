package federation

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/graph"
	"github.com/pecan-social/pecan/app/posts"
	"github.com/pecan-social/pecan/models"
)

// SignerName is the delivery signer of ActivityPub deliveries.
const SignerName = "activitypub"

// Delivery limits of activities: Mastodon-like patience, about a day and a
// half of retries with the default backoff.
const (
	deliveryAttempts = 16
	deliveryTimeout  = 30 * time.Second
)

// Options wire the service.
type Options struct {
	Site   convert.Site
	Scheme string // how to reach other servers' well-known endpoints: https, or http in local testing
	DB     *database.DB
	Client *http.Client // the delivery package's safe client
	Posts  *posts.Processor
	Graph  *graph.Processor
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is ActivityPub for one instance.
type Service struct {
	site   convert.Site
	scheme string
	db     *database.DB
	client *http.Client
	posts  *posts.Processor
	graph  *graph.Processor
	now    func() time.Time
	logger *slog.Logger
	keys   *keyCache
	ours   signingKeys

	instanceMu  sync.Mutex
	instanceKey *rsa.PrivateKey
	instancePub string
}

// New returns the service.
func New(o Options) *Service {
	return &Service{
		site: o.Site, scheme: o.Scheme, db: o.DB, client: o.Client, posts: o.Posts, graph: o.Graph,
		now: o.Now, logger: o.Logger, keys: newKeyCache(10 * time.Minute),
	}
}

// Use gives the service the processors it applies remote activities
// through; they are built after it, since they tell it of local changes.
func (s *Service) Use(p *posts.Processor, g *graph.Processor) { s.posts, s.graph = p, g }

// Site is the instance's URL scheme.
func (s *Service) Site() convert.Site { return s.site }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

const instanceKeyName = "instance"

// InstanceKey is the instance actor's key pair, made on first use and
// kept in the database so every replica and every restart signs with the
// same one.
func (s *Service) InstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error) {
	s.instanceMu.Lock()
	defer s.instanceMu.Unlock()
	if s.instanceKey == nil {
		key, pub, err := s.loadInstanceKey(ctx)
		if err != nil {
			return nil, "", err // tried again next time
		}
		s.instanceKey, s.instancePub = key, pub
	}
	return s.instanceKey, s.instancePub, nil
}

func (s *Service) loadInstanceKey(ctx context.Context) (*rsa.PrivateKey, string, error) {
	k, err := s.db.ServerKey(ctx, instanceKeyName)
	if errors.Is(err, database.ErrNotFound) {
		priv, pub, genErr := GenerateKey()
		if genErr != nil {
			return nil, "", genErr
		}
		if err := s.db.InsertServerKey(ctx, &models.ServerKey{Name: instanceKeyName, PublicKeyPEM: pub, PrivateKeyPEM: priv, CreatedAt: s.clock()}); err != nil {
			return nil, "", err
		}
		k, err = s.db.ServerKey(ctx, instanceKeyName) // another replica may have won
	}
	if err != nil {
		return nil, "", fmt.Errorf("instance key: %w", err)
	}
	key, err := ParsePrivateKey(k.PrivateKeyPEM)
	if err != nil {
		return nil, "", fmt.Errorf("instance key: %w", err)
	}
	return key, k.PublicKeyPEM, nil
}

// signingKey is the key a local user (or, for id 0, the instance) signs with.
func (s *Service) signingKey(ctx context.Context, userID int64) (*rsa.PrivateKey, string, error) {
	if userID == 0 {
		key, _, err := s.InstanceKey(ctx)
		return key, s.site.InstanceKeyID(), err
	}
	if k, ok := s.ours.get(userID); ok {
		return k.key, k.keyID, nil
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if u.Remote() || u.PrivateKeyPEM == "" {
		return nil, "", fmt.Errorf("user %d has no signing key", userID)
	}
	key, err := ParsePrivateKey(u.PrivateKeyPEM)
	if err != nil {
		return nil, "", fmt.Errorf("key of user %d: %w", userID, err)
	}
	k := signingKey{key: key, keyID: s.site.KeyID(u.Username)}
	s.ours.put(userID, k)
	return k.key, k.keyID, nil
}
