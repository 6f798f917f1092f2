// Package crosspost carries users' posts to their accounts elsewhere: an
// account on a server that speaks the Mastodon client API (with the
// user's access token, sealed at rest) or a remote ActivityPub actor (to
// its inbox, signed with the author's key). A post names its targets when
// it is made; each becomes a delivery in the post's own transaction, and
// the post's revision and delete follow it there.
package crosspost

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/events"
	"github.com/pecan-social/pecan/models"
)

// SignerName is the delivery signer of every crosspost; a delivery's
// SignerRef is its target.
const SignerName = "crosspost"

// MaxTargets is how many targets one user may have.
const MaxTargets = 10

// Federation is what crossposting to ActivityPub actors needs of the
// federation service.
type Federation interface {
	ResolveHandle(ctx context.Context, name, host string) (*models.User, error)
	RemoteActor(ctx context.Context, actorID string, refresh bool) (*models.User, error)
	CrosspostActivity(ctx context.Context, q database.Queries, postID int64, event string, target *models.User, ref int64) ([]byte, error)
	// Sign signs with the key of the local user d.SignerRef names.
	Sign(ctx context.Context, req *http.Request, d *models.Delivery) error
}

// Options wire the processor.
type Options struct {
	DB       *database.DB
	Client   *http.Client // the delivery package's safe client
	Policy   delivery.AddressPolicy
	Resolver delivery.Resolver
	Fed      Federation
	Webhooks events.Sink // hears post.crossposted
	Key      []byte      // crosspost.secret_key; nil: a key kept in the database
	Host     string      // this instance's host, which mentions of its users carry elsewhere
	Now      func() time.Time
}

// Processor applies the crossposting rules.
type Processor struct {
	db       *database.DB
	client   *http.Client
	policy   delivery.AddressPolicy
	resolver delivery.Resolver
	fed      Federation
	webhooks events.Sink
	sealer   *sealer
	host     string
	now      func() time.Time
}

// New returns a crosspost processor.
func New(o Options) *Processor {
	return &Processor{
		db: o.DB, client: o.Client, policy: o.Policy, resolver: o.Resolver, fed: o.Fed, webhooks: o.Webhooks,
		sealer: newSealer(o.DB, o.Key, o.Now), host: o.Host, now: o.Now,
	}
}

func (p *Processor) clock() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

// TargetInput is a new target. Kind decides which of the rest it needs.
type TargetInput struct {
	Kind        string
	URL         *string // mastodon: the server
	AccessToken *string // mastodon
	Actor       *string // activitypub: @user@host or an actor URL
}

// CreateTarget checks a target with the server it lives on and stores it.
func (p *Processor) CreateTarget(ctx context.Context, owner *models.User, in TargetInput) (*models.CrosspostTarget, error) {
	var (
		t   *models.CrosspostTarget
		err error
	)
	switch models.CrosspostKind(in.Kind) {
	case models.CrosspostMastodon:
		t, err = p.mastodonTarget(ctx, owner, in)
	case models.CrosspostActivityPub:
		t, err = p.actorTarget(ctx, in)
	case "":
		err = errs.Invalid("kind", "invalid_kind", "kind is required: mastodon or activitypub")
	default:
		err = errs.Invalid("kind", "invalid_kind", "kind must be mastodon or activitypub")
	}
	if err != nil {
		return nil, err
	}
	t.UserID, t.CreatedAt = owner.ID, p.clock()
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		list, err := q.CrosspostTargetsOf(ctx, owner.ID)
		if err != nil {
			return err
		}
		if len(list) >= MaxTargets {
			return errs.Conflict("", "too_many_targets", "a user may have at most %d crosspost targets", MaxTargets)
		}
		return q.InsertCrosspostTarget(ctx, t)
	})
	if errors.Is(err, database.ErrDuplicate) {
		return nil, errs.Conflict("", "target_exists", "%s is already one of your crosspost targets", t.Handle)
	}
	return t, err
}

var errTargetNotFound = errs.NotFound("target_not_found", "crosspost target not found")

// OwnedTarget loads a target for its owner: 404 if there is none, 403 if
// it is someone else's.
func (p *Processor) OwnedTarget(ctx context.Context, owner *models.User, id int64) (*models.CrosspostTarget, error) {
	return owned(ctx, p.db.Queries, owner.ID, id, "")
}

func owned(ctx context.Context, q database.Queries, ownerID, id int64, field string) (*models.CrosspostTarget, error) {
	t, err := q.CrosspostTargetByID(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		e := *errTargetNotFound
		e.Field = field
		return nil, &e
	}
	if err != nil {
		return nil, err
	}
	if t.UserID != ownerID {
		e := errs.Forbidden("not_yours", "crosspost target %d belongs to another user", id)
		e.Field = field
		return nil, e
	}
	return t, nil
}

// Targets lists the owner's targets.
func (p *Processor) Targets(ctx context.Context, owner *models.User) ([]*models.CrosspostTarget, error) {
	return p.db.CrosspostTargetsOf(ctx, owner.ID)
}

// DeleteTarget removes a target with whatever it had left to send; posts
// already there stay there.
func (p *Processor) DeleteTarget(ctx context.Context, owner *models.User, id int64) (*models.CrosspostTarget, error) {
	t, err := p.OwnedTarget(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	err = p.db.InTx(ctx, func(ctx context.Context, q database.Queries) error {
		if err := q.DeleteDeliveriesBySigner(ctx, SignerName, t.ID); err != nil {
			return err
		}
		return q.DeleteCrosspostTarget(ctx, t.ID)
	})
	return t, err
}

// Statuses is where the viewer's own posts among list stand at their
// targets, by post id. Nobody else sees them.
func (p *Processor) Statuses(ctx context.Context, viewer *models.User, list []*models.Post) (map[int64][]models.CrosspostStatus, error) {
	if viewer == nil {
		return nil, nil
	}
	var ids []int64
	for _, post := range list {
		if post.UserID == viewer.ID && post.RepostOf == nil {
			ids = append(ids, post.ID)
		}
	}
	rows, err := p.db.CrosspostStatuses(ctx, ids)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	out := map[int64][]models.CrosspostStatus{}
	for _, r := range rows {
		out[r.PostID] = append(out[r.PostID], r)
	}
	return out, nil
}
