package convert

import "github.com/pecan-social/pecan/models"

// CrosspostTarget is a target as its owner sees it. A Mastodon target's
// token is never shown, not even on create.
type CrosspostTarget struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Handle     string `json:"handle"`
	ProfileURL string `json:"profile_url,omitempty"`
	URL        string `json:"url,omitempty"`   // mastodon: the server
	Actor      string `json:"actor,omitempty"` // activitypub: the actor id
	CreatedAt  string `json:"created_at"`
}

// ToCrosspostTarget renders t.
func ToCrosspostTarget(t *models.CrosspostTarget) CrosspostTarget {
	out := CrosspostTarget{
		ID: ID(t.ID), Kind: string(t.Kind), Handle: t.Handle, ProfileURL: t.ProfileURL, CreatedAt: Time(t.CreatedAt),
	}
	if t.Kind == models.CrosspostMastodon {
		out.URL = t.ServerURL
	} else {
		out.Actor = t.RemoteKey
	}
	return out
}

// ToCrosspostTargets renders a list.
func ToCrosspostTargets(list []*models.CrosspostTarget) []CrosspostTarget {
	out := make([]CrosspostTarget, len(list))
	for i, t := range list {
		out[i] = ToCrosspostTarget(t)
	}
	return out
}

// CrosspostDelivery is where a post stands at one of its targets, as its
// author sees it: the status of the request last sent there (the create,
// then an edit or the delete), and what the target calls the post.
type CrosspostDelivery struct {
	TargetID    string  `json:"target_id"`
	Kind        string  `json:"kind"`
	Status      string  `json:"status"`
	Attempts    int     `json:"attempts"`
	DeliveredAt *string `json:"delivered_at"`
	RemoteID    *string `json:"remote_id"`
	RemoteURL   *string `json:"remote_url"`
	LastError   *string `json:"last_error"`
}

// ToCrosspostDeliveries renders a post's crossposts. A delivery no longer
// stored was delivered and pruned.
func ToCrosspostDeliveries(list []models.CrosspostStatus) []CrosspostDelivery {
	out := make([]CrosspostDelivery, len(list))
	for i, s := range list {
		d := CrosspostDelivery{
			TargetID: ID(s.TargetID), Kind: s.Kind, Status: string(models.DeliveryDelivered),
			DeliveredAt: optionalTime(s.ArrivedAt), RemoteID: optionalString(s.RemoteID), RemoteURL: optionalString(s.RemoteURL),
		}
		if s.Status != nil {
			d.Status, d.DeliveredAt = *s.Status, optionalTime(s.DeliveredAt)
			d.Attempts = *s.Attempts
			d.LastError = optionalString(*s.LastError)
		}
		out[i] = d
	}
	return out
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
