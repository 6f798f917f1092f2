package crosspost

import (
	"context"
	"strings"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// actorTarget resolves @user@host (by WebFinger) or an actor URL to a
// remote actor.
func (p *Processor) actorTarget(ctx context.Context, in TargetInput) (*models.CrosspostTarget, error) {
	if in.Actor == nil || strings.TrimSpace(*in.Actor) == "" {
		return nil, errs.Invalid("actor", "invalid_actor", "actor is required: a handle like @alice@social.example or an actor URL")
	}
	ref := strings.TrimSpace(*in.Actor)
	if len(ref) > maxURLLength {
		return nil, errs.Invalid("actor", "invalid_actor", "actor must be at most %d bytes", maxURLLength)
	}
	u, err := p.resolveActor(ctx, ref)
	if err != nil {
		return nil, errs.Invalid("actor", "unresolvable_target", "cannot find %s: %v", ref, err)
	}
	if !u.Remote() || u.ActorID == nil {
		return nil, errs.Invalid("actor", "unresolvable_target", "%s is on this server; mention them instead", ref)
	}
	return &models.CrosspostTarget{
		Kind: models.CrosspostActivityPub, RemoteKey: *u.ActorID, Handle: u.Username, ProfileURL: u.ProfileURL, RemoteUserID: &u.ID,
	}, nil
}

func (p *Processor) resolveActor(ctx context.Context, ref string) (*models.User, error) {
	if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
		return p.fed.RemoteActor(ctx, ref, true)
	}
	name, host, ok := strings.Cut(strings.TrimPrefix(ref, "@"), "@")
	if !ok || name == "" || host == "" || strings.Contains(host, "@") {
		return nil, errs.Invalid("actor", "invalid_actor", "%q is neither @user@host nor an actor URL", ref)
	}
	return p.fed.ResolveHandle(ctx, name, host)
}
