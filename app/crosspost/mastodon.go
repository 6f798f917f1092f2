package crosspost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/pecan-social/pecan/app/delivery"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Limits of a Mastodon target.
const (
	maxURLLength   = 2048
	maxTokenLength = 4096
	maxAnswer      = 1 << 20
	verifyTimeout  = 10 * time.Second
)

// Delivery limits of Mastodon crossposts. Mastodon remembers an
// Idempotency-Key for an hour: a create is retried only for about that
// long with the default backoff (10 s doubling: the eighth attempt comes
// some 40 minutes in), so a retry of a request whose answer was lost never
// makes a second status. Edits and deletes may take longer.
const (
	mastodonCreateAttempts = 8
	mastodonAttempts       = 16
	mastodonTimeout        = 30 * time.Second
)

// mastodonTarget checks the server and the token with verify_credentials
// and seals the token.
func (p *Processor) mastodonTarget(ctx context.Context, owner *models.User, in TargetInput) (*models.CrosspostTarget, error) {
	server, err := p.serverURL(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	if in.AccessToken == nil || *in.AccessToken == "" {
		return nil, errs.Invalid("access_token", "invalid_access_token", "access_token is required: a token of your account there with the write:statuses scope")
	}
	token := *in.AccessToken
	if len(token) > maxTokenLength || !httpguts.ValidHeaderFieldValue(token) || strings.ContainsAny(token, " \t") {
		return nil, errs.Invalid("access_token", "invalid_access_token", "access_token must be at most %d bytes of printable text without spaces", maxTokenLength)
	}
	account, err := p.verifyCredentials(ctx, server, token)
	if err != nil {
		return nil, err
	}
	host := server.Host
	handle := account.Acct
	if !strings.Contains(handle, "@") {
		handle += "@" + host
	}
	t := &models.CrosspostTarget{
		Kind: models.CrosspostMastodon, RemoteKey: server.String() + "#" + string(account.ID), Handle: handle,
		ProfileURL: account.URL, ServerURL: server.String(),
	}
	if t.SealedToken, err = p.sealer.seal(ctx, token, tokenBinding(owner.ID, t.ServerURL)); err != nil {
		return nil, err
	}
	return t, nil
}

// tokenBinding ties a sealed token to its owner and server: copied to
// another row, it does not open.
func tokenBinding(userID int64, server string) string {
	return "crosspost-token|" + strconv.FormatInt(userID, 10) + "|" + server
}

// serverURL reads a Mastodon server's base URL: http(s), a host, an
// optional path, nothing else; trailing slashes go.
func (p *Processor) serverURL(ctx context.Context, raw *string) (*url.URL, error) {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		return nil, errs.Invalid("url", "invalid_url", "url is required: the address of your server, like https://mastodon.example")
	}
	s := strings.TrimRight(strings.TrimSpace(*raw), "/")
	if len(s) > maxURLLength {
		return nil, errs.Invalid("url", "invalid_url", "url must be at most %d bytes", maxURLLength)
	}
	if err := delivery.CheckURL(ctx, s, p.policy, p.resolver); err != nil {
		return nil, errs.Invalid("url", "invalid_url", "%s", err.Error())
	}
	u, _ := url.Parse(s) // CheckURL parsed it
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errs.Invalid("url", "invalid_url", "url must be the server's address, without a query or fragment")
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// account is what Pecan reads of a Mastodon Account.
type account struct {
	ID       flexibleID `json:"id"`
	Username string     `json:"username"`
	Acct     string     `json:"acct"`
	URL      string     `json:"url"`
}

// status is what Pecan reads of a Mastodon Status.
type status struct {
	ID  flexibleID `json:"id"`
	URL string     `json:"url"`
	URI string     `json:"uri"`
}

// flexibleID reads an id Mastodon sends as a string and some servers of
// its API as a number.
type flexibleID string

func (f *flexibleID) UnmarshalJSON(data []byte) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		*f = flexibleID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number")
	}
	*f = flexibleID(n.String())
	return nil
}

// verifyCredentials asks the server whose account the token is. The
// token goes in the header only, and no error repeats it.
func (p *Processor) verifyCredentials(ctx context.Context, server *url.URL, token string) (*account, error) {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.String()+"/api/v1/accounts/verify_credentials", nil)
	if err != nil {
		return nil, errs.Invalid("url", "invalid_url", "url is not usable: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, errs.Invalid("url", "target_unreachable", "cannot reach %s: %v", server.Host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, errs.Invalid("access_token", "target_rejected", "%s refused the access token (%s)", server.Host, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, errs.Invalid("url", "target_unreachable", "%s answered %s to verify_credentials; is it a Mastodon API server?", server.Host, resp.Status)
	}
	var a account
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(&a); err != nil || a.ID == "" || a.Acct == "" {
		return nil, errs.Invalid("url", "target_unreachable", "%s did not answer verify_credentials with an account", server.Host)
	}
	return &a, nil
}

// statusParams is the body of a create or an edit.
type statusParams struct {
	Status      string `json:"status"`
	Sensitive   bool   `json:"sensitive"`
	InReplyToID string `json:"in_reply_to_id,omitempty"`
}

// mastodonJob is a create (POST), edit (PUT) or delete (DELETE) of the
// status that carries post. Edits and deletes learn the status's id only
// when they are sent (see Prepare).
func (p *Processor) mastodonJob(t *models.CrosspostTarget, post *models.Post, event string) (delivery.Job, error) {
	job := delivery.Job{
		Kind: models.DeliveryCrosspost, Event: event, URL: t.ServerURL + "/api/v1/statuses",
		Signer: SignerName, SignerRef: t.ID, PostID: &post.ID, MaxAttempts: mastodonAttempts, Timeout: mastodonTimeout,
	}
	switch event {
	case models.EventPostCreated:
		job.Method, job.MaxAttempts = http.MethodPost, mastodonCreateAttempts
	case models.EventPostRevised:
		job.Method = http.MethodPut
	case models.EventPostDeleted:
		job.Method = http.MethodDelete
		return job, nil
	default:
		return job, fmt.Errorf("crosspost post %d: nothing to send for %s", post.ID, event)
	}
	body, err := json.Marshal(statusParams{Status: StatusText(post, p.host), Sensitive: post.IsNSFW})
	if err != nil {
		return job, fmt.Errorf("encode status of post %d: %w", post.ID, err)
	}
	job.Body = body
	return job, nil
}

// StatusText is a post's text as a Mastodon status: markdown links, which
// Pecan shows as "anchor [domain]", become "anchor (URL)" (or the URL
// alone where the anchor was the URL or its domain), bare domains get
// their scheme so Mastodon links them, and mentions of users here become
// full handles, so they reach the right people from there.
func StatusText(post *models.Post, localHost string) string {
	type edit struct {
		pos, end int
		with     string
	}
	var edits []edit
	for _, l := range post.Entities.Links {
		switch {
		case l.AmendedLen != nil && !sameAsURL(l.Text, l.URL):
			edits = append(edits, edit{l.Pos, l.Pos + *l.AmendedLen, l.Text + " (" + l.URL + ")"})
		case l.AmendedLen != nil:
			edits = append(edits, edit{l.Pos, l.Pos + *l.AmendedLen, l.URL})
		case !strings.Contains(l.Text, "://"): // a bare domain, which Mastodon would not link
			edits = append(edits, edit{l.Pos, l.Pos + l.Len, l.URL})
		}
	}
	for _, m := range post.Entities.Mentions {
		if !strings.Contains(m.Text, "@") && localHost != "" {
			edits = append(edits, edit{m.Pos, m.Pos + m.Len, "@" + m.Text + "@" + localHost})
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].pos < edits[j].pos })
	runes := []rune(post.Text)
	var b bytes.Buffer
	at := 0
	for _, e := range edits {
		if e.pos < at || e.end > len(runes) {
			continue // entities never overlap; a stray one is left alone
		}
		b.WriteString(string(runes[at:e.pos]))
		b.WriteString(e.with)
		at = e.end
	}
	b.WriteString(string(runes[at:]))
	return strings.ToValidUTF8(b.String(), string(utf8.RuneError))
}

// sameAsURL reports whether a link's anchor is its URL, with or without
// the scheme.
func sameAsURL(anchor, u string) bool {
	trimmed := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.EqualFold(anchor, u) || strings.EqualFold(anchor, trimmed) || strings.EqualFold(anchor, strings.TrimSuffix(trimmed, "/"))
}
