package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// JRD is a WebFinger answer.
type JRD struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases,omitempty"`
	Links   []JRDLink `json:"links"`
}

// JRDLink is one link of a WebFinger answer.
type JRDLink struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

// WebFinger answers for a local account named by "acct:user@host" or by
// its actor or profile URL, comparing case-insensitively.
func (s *Service) WebFinger(ctx context.Context, resource string) (*JRD, error) {
	name, err := s.localName(resource)
	if err != nil {
		return nil, err
	}
	u, err := s.db.UserByUsername(ctx, name)
	if errors.Is(err, database.ErrNotFound) || (err == nil && u.Remote()) {
		return nil, errs.NotFound("user_not_found", "no account %s here", resource)
	}
	if err != nil {
		return nil, err
	}
	actor := s.site.Actor(u.Username)
	return &JRD{
		Subject: "acct:" + u.Username + "@" + s.site.Host(),
		Aliases: []string{actor, s.site.Profile(u.Username)},
		Links: []JRDLink{
			{Rel: "self", Type: "application/activity+json", Href: actor},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: s.site.Profile(u.Username)},
		},
	}, nil
}

// localName is the username a WebFinger resource names on this host.
func (s *Service) localName(resource string) (string, error) {
	bad := errs.Invalid("resource", "invalid_resource", "resource must be acct:user@%s or an actor URL", s.site.Host())
	if acct, ok := cutPrefixFold(resource, "acct:"); ok {
		name, host, found := strings.Cut(strings.TrimPrefix(acct, "@"), "@")
		if !found || name == "" {
			return "", bad
		}
		if !strings.EqualFold(host, s.site.Host()) {
			return "", errs.NotFound("user_not_found", "%s is not on this server", resource)
		}
		return name, nil
	}
	for _, prefix := range []string{s.site.Base + "/users/", s.site.Base + "/@"} {
		if name, ok := cutPrefixFold(resource, prefix); ok && name != "" && !strings.ContainsAny(name, "/?#") {
			return name, nil
		}
	}
	return "", bad
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// ResolveHandle finds the remote user "name@host" by WebFinger, fetching
// and storing the actor the answer points to.
func (s *Service) ResolveHandle(ctx context.Context, name, host string) (*models.User, error) {
	if strings.EqualFold(host, s.site.Host()) {
		u, err := s.LocalActor(ctx, name)
		if err != nil {
			return nil, errs.NotFound("user_not_found", "no user @%s here", name)
		}
		return u, nil
	}
	if u, err := s.db.UserByUsername(ctx, name+"@"+host); err == nil && u.FetchedAt != nil && s.now().Sub(*u.FetchedAt) < actorRefresh {
		return u, nil
	}
	actorID, err := s.webFingerActor(ctx, name, host)
	if err != nil {
		return nil, errs.NotFound("user_not_found", "cannot find @%s@%s: %v", name, host, err)
	}
	u, err := s.RemoteActor(ctx, actorID, true)
	if err != nil {
		return nil, errs.NotFound("user_not_found", "cannot fetch @%s@%s: %v", name, host, err)
	}
	return u, nil
}

func (s *Service) webFingerActor(ctx context.Context, name, host string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	q := url.Values{"resource": {"acct:" + name + "@" + host}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.scheme+"://"+host+"/.well-known/webfinger?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("webfinger: %s", resp.Status)
	}
	var jrd JRD
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxDocument)).Decode(&jrd); err != nil {
		return "", fmt.Errorf("webfinger: %w", err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && IsActivityPubType(l.Type) && l.Href != "" {
			return l.Href, nil
		}
	}
	return "", errors.New("webfinger: no ActivityPub actor link")
}
