package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// MaxDocument is the largest remote document Pecan reads, as Mastodon.
const MaxDocument = 1 << 20

// Errors of fetching remote documents.
var (
	ErrTooLarge       = errors.New("remote document larger than 1 MB")
	ErrNotActivityPub = errors.New("remote document is not ActivityPub JSON")
	ErrGone           = errors.New("remote object is gone")
	ErrIDMismatch     = errors.New("remote document id differs from its URL")
)

// AcceptActivityPub is the Accept header of every fetch.
const AcceptActivityPub = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// IsActivityPubType reports whether a media type is ActivityPub JSON:
// application/activity+json, or application/ld+json with the
// ActivityStreams profile.
func IsActivityPubType(header string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json":
		return true
	case "application/ld+json":
		return strings.Contains(params["profile"], "https://www.w3.org/ns/activitystreams")
	}
	return false
}

// fetch GETs an ActivityPub document, signed with the instance key so
// servers in authorized-fetch mode answer, and returns its body.
func (s *Service) fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", AcceptActivityPub)
	key, _, err := s.InstanceKey(ctx)
	if err != nil {
		return nil, err
	}
	if err := SignRequest(req, nil, s.site.InstanceKeyID(), key, s.now()); err != nil {
		return nil, fmt.Errorf("fetch %s: sign: %w", url, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("fetch %s: %w", url, ErrGone)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	case !IsActivityPubType(resp.Header.Get("Content-Type")):
		return nil, fmt.Errorf("fetch %s: %w (%s)", url, ErrNotActivityPub, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(body) > MaxDocument {
		return nil, fmt.Errorf("fetch %s: %w", url, ErrTooLarge)
	}
	return body, nil
}

// fetchObject fetches url into v and checks the document says it is what
// was asked for: its id equals the URL.
func (s *Service) fetchObject(ctx context.Context, url string, v any) error {
	body, err := s.fetch(ctx, url)
	if err != nil {
		return err
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("fetch %s: %w: %v", url, ErrNotActivityPub, err)
	}
	if head.ID != url {
		return fmt.Errorf("fetch %s: %w: %q", url, ErrIDMismatch, head.ID)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	return nil
}
