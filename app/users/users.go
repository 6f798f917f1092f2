// Package users holds the rules for local accounts: who may have which
// username, how passwords are kept, and what a profile may say.
package users

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Limits on user input, from pnut.
const (
	MaxNameLength        = 50
	MaxProfileTextLength = 256
	MinPasswordLength    = 8
	maxPasswordBytes     = 72 // bcrypt ignores anything past 72 bytes
	MaxLookupIDs         = 200
)

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,20}$`)

// Processor applies the user rules and stores through the database.
type Processor struct {
	db         *database.DB
	now        func() time.Time
	bcryptCost int
	keyGen     func() (privatePEM, publicPEM string, err error)
	resolver   Resolver
	onChange   func(context.Context) // told when a profile changes
	decoyOnce  sync.Once
	decoy      []byte // see decoyHash
}

// New returns a processor. bcryptCost 0 means bcrypt.DefaultCost; tests pass
// bcrypt.MinCost so creating users stays cheap.
// keyGen makes each new account's federation key pair (PEM).
func New(db *database.DB, now func() time.Time, bcryptCost int, keyGen func() (string, string, error)) *Processor {
	if bcryptCost == 0 {
		bcryptCost = bcrypt.DefaultCost
	}
	return &Processor{db: db, now: now, bcryptCost: bcryptCost, keyGen: keyGen}
}

// NewUser is what creating an account takes.
type NewUser struct {
	Username string
	Password string // may be empty: such an account signs in with tokens only
	Type     models.UserType
	Name     string
}

// Create validates and stores a new account.
func (p *Processor) Create(ctx context.Context, in NewUser) (*models.User, error) {
	if err := validateNewUser(in); err != nil {
		return nil, err
	}
	hash := ""
	if in.Password != "" {
		b, err := bcrypt.GenerateFromPassword([]byte(in.Password), p.bcryptCost)
		if err != nil {
			return nil, fmt.Errorf("hash password of %q: %w", in.Username, err)
		}
		hash = string(b)
	}
	priv, pub, err := p.keyGen()
	if err != nil {
		return nil, fmt.Errorf("make keys of %q: %w", in.Username, err)
	}
	now := p.now().UTC()
	u := &models.User{
		Username: in.Username, UsernameKey: strings.ToLower(in.Username), Name: in.Name,
		Type: in.Type, Locale: "en_US", Timezone: "UTC", PasswordHash: hash,
		PublicKeyPEM: pub, PrivateKeyPEM: priv, CreatedAt: now, UpdatedAt: now,
	}
	err = p.db.CreateUser(ctx, u)
	if errors.Is(err, database.ErrDuplicate) {
		return nil, errs.Conflict("username", "username_taken", "username %q is taken", in.Username)
	}
	return u, err
}

func validateNewUser(in NewUser) error {
	if !usernamePattern.MatchString(in.Username) {
		return errs.Invalid("username", "invalid_username", "username must be 1 to 20 of a-z, 0-9 and _")
	}
	if !in.Type.Valid() {
		return errs.Invalid("type", "invalid_user_type", "type must be human, feed or bot")
	}
	if utf8.RuneCountInString(in.Name) > MaxNameLength {
		return errs.Invalid("name", "name_too_long", "name must be at most %d characters", MaxNameLength)
	}
	if in.Password != "" && utf8.RuneCountInString(in.Password) < MinPasswordLength {
		return errs.Invalid("password", "password_too_short", "password must be at least %d characters", MinPasswordLength)
	}
	if len(in.Password) > maxPasswordBytes {
		return errs.Invalid("password", "password_too_long", "password must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

// Lookup finds a user by reference: a numeric id, "@username", or "me"
// (which needs a signed-in viewer).
func (p *Processor) Lookup(ctx context.Context, ref string, viewer *models.User) (*models.User, error) {
	if ref == "me" {
		if viewer == nil {
			return nil, errs.Unauthorized("token_missing", "\"me\" needs an access token")
		}
		return p.current(ctx, viewer)
	}
	id, name, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	var u *models.User
	if name != "" {
		u, err = p.db.UserByUsername(ctx, name)
	} else {
		u, err = p.db.UserByID(ctx, id)
	}
	if errors.Is(err, database.ErrNotFound) {
		if user, host, remote := strings.Cut(name, "@"); remote && p.resolver != nil {
			return p.resolver.ResolveHandle(ctx, user, host)
		}
		return nil, errs.NotFound("user_not_found", "user %s not found", ref)
	}
	return u, err
}

// Resolver finds remote users by handle (WebFinger).
type Resolver interface {
	ResolveHandle(ctx context.Context, name, host string) (*models.User, error)
}

// SetResolver lets Lookup find "@user@host" on other servers.
func (p *Processor) SetResolver(r Resolver) { p.resolver = r }

// current reads the signed-in user afresh, without their secrets: the one
// that came with the token may be seconds old (see tokens.CacheFor), and
// a profile change made on another server meanwhile must not be undone.
func (p *Processor) current(ctx context.Context, viewer *models.User) (*models.User, error) {
	found, err := p.db.UsersByIDsOrNames(ctx, []int64{viewer.ID}, nil)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errs.NotFound("user_not_found", "user %d not found", viewer.ID)
	}
	return found[0], nil
}

// OnProfileChange has f called after each profile change, for whoever
// keeps copies of users (the token cache).
func (p *Processor) OnProfileChange(f func(context.Context)) { p.onChange = f }

// remoteHandle is "user@host" with a host name and optional port.
var remoteHandle = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$`)

// parseRef splits "@name" (or "@name@host") from a numeric id; anything
// else is a 400.
func parseRef(ref string) (int64, string, error) {
	if name, ok := strings.CutPrefix(ref, "@"); ok {
		if !usernamePattern.MatchString(name) && !remoteHandle.MatchString(name) {
			return 0, "", errs.Invalid("user_id", "invalid_user_id", "%q is not a username", ref)
		}
		return 0, name, nil
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", errs.Invalid("user_id", "invalid_user_id", "%q is not a user id, @username or me", ref)
	}
	return id, "", nil
}

// LookupMany loads up to MaxLookupIDs users named by ids or @usernames, in
// the order asked; unknown ones are left out, as pnut does.
func (p *Processor) LookupMany(ctx context.Context, refs []string) ([]*models.User, error) {
	if len(refs) > MaxLookupIDs {
		refs = refs[:MaxLookupIDs]
	}
	var ids []int64
	var names []string
	for _, ref := range refs {
		id, name, err := parseRef(ref)
		if err != nil {
			return nil, errs.Invalid("ids", "invalid_user_id", "%q is not a user id or @username", ref)
		}
		if name != "" {
			names = append(names, strings.ToLower(name))
		} else {
			ids = append(ids, id)
		}
	}
	found, err := p.db.UsersByIDsOrNames(ctx, ids, names)
	if err != nil {
		return nil, err
	}
	return orderByRefs(refs, found), nil
}

func orderByRefs(refs []string, found []*models.User) []*models.User {
	byKey := make(map[string]*models.User, 2*len(found))
	for _, u := range found {
		byKey[strconv.FormatInt(u.ID, 10)] = u
		byKey["@"+u.UsernameKey] = u
	}
	out := make([]*models.User, 0, len(refs))
	seen := make(map[int64]bool, len(refs))
	for _, ref := range refs {
		if u, ok := byKey[strings.ToLower(ref)]; ok && !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	return out
}

// ProfileUpdate holds the fields PATCH /users/me may change; nil leaves a
// field as it is.
type ProfileUpdate struct {
	Name     *string
	Text     *string
	Locale   *string
	Timezone *string
}

// UpdateProfile applies a partial profile change to u.
func (p *Processor) UpdateProfile(ctx context.Context, u *models.User, in ProfileUpdate) (*models.User, error) {
	current, err := p.current(ctx, u)
	if err != nil {
		return nil, err
	}
	updated := *current
	if err := applyProfile(&updated, in); err != nil {
		return nil, err
	}
	updated.UpdatedAt = p.now().UTC()
	if err := p.db.UpdateUserProfile(ctx, &updated); err != nil {
		return nil, err
	}
	if p.onChange != nil {
		p.onChange(ctx)
	}
	return &updated, nil
}

func applyProfile(u *models.User, in ProfileUpdate) error {
	if in.Name != nil {
		if utf8.RuneCountInString(*in.Name) > MaxNameLength {
			return errs.Invalid("name", "name_too_long", "name must be at most %d characters", MaxNameLength)
		}
		u.Name = *in.Name
	}
	if in.Text != nil {
		if utf8.RuneCountInString(*in.Text) > MaxProfileTextLength {
			return errs.Invalid("content.text", "profile_text_too_long", "profile text must be at most %d characters", MaxProfileTextLength)
		}
		u.ProfileText = *in.Text
	}
	if in.Locale != nil {
		if !localePattern.MatchString(*in.Locale) {
			return errs.Invalid("locale", "invalid_locale", "locale must look like en_US")
		}
		u.Locale = *in.Locale
	}
	if in.Timezone != nil {
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "" {
			return errs.Invalid("timezone", "invalid_timezone", "timezone must be an IANA name like Europe/Berlin")
		}
		u.Timezone = *in.Timezone
	}
	return nil
}

var localePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
