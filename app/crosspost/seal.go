package crosspost

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// tokenKeyName is the server_keys row of the key made when the operator
// set none. It is a symmetric key, kept base64 in the private key column.
const tokenKeyName = "crosspost-token"

// sealer encrypts access tokens with AES-256-GCM. A sealed token names
// the key that sealed it by fingerprint, so tokens sealed with the
// database's key stay readable after the operator sets
// crosspost.secret_key, which seals everything new.
type sealer struct {
	db        *database.DB
	configKey []byte
	now       func() time.Time

	mu      sync.Mutex
	keys    map[string]cipher.AEAD // by fingerprint
	current string
}

func newSealer(db *database.DB, configKey []byte, now func() time.Time) *sealer {
	return &sealer{db: db, configKey: configKey, now: now}
}

// errUnsealable is a token no key of this server opens: sealed with a key
// the operator has since replaced, or altered in the database.
var errUnsealable = errors.New("the access token cannot be opened with this server's keys; add the target again")

// seal encrypts plaintext bound to the target it belongs to: moved to
// another row, the same bytes do not open.
func (s *sealer) seal(ctx context.Context, plaintext, bound string) (string, error) {
	if err := s.load(ctx); err != nil {
		return "", err
	}
	aead := s.keys[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal token: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(plaintext), []byte(bound))
	return "v1:" + s.current + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *sealer) open(ctx context.Context, sealed, bound string) (string, error) {
	if err := s.load(ctx); err != nil {
		return "", err
	}
	parts := strings.Split(sealed, ":")
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errUnsealable
	}
	aead, ok := s.keys[parts[1]]
	data, err := base64.RawURLEncoding.DecodeString(parts[2])
	if !ok || err != nil || len(data) < aead.NonceSize() {
		return "", errUnsealable
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(bound))
	if err != nil {
		return "", errUnsealable
	}
	return string(plain), nil
}

// load reads the keys once: the configured one, and the database's, made
// now if there is no configured key and none was made before.
func (s *sealer) load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys != nil {
		return nil
	}
	keys := map[string]cipher.AEAD{}
	current := ""
	if s.configKey != nil {
		fp, aead, err := newAEAD(s.configKey)
		if err != nil {
			return err
		}
		keys[fp], current = aead, fp
	}
	stored, err := s.storedKey(ctx, current == "")
	if err != nil {
		return err
	}
	if stored != nil {
		fp, aead, err := newAEAD(stored)
		if err != nil {
			return err
		}
		keys[fp] = aead
		if current == "" {
			current = fp
		}
	}
	s.keys, s.current = keys, current
	return nil
}

// storedKey is the database's key, or nil; with create it is made if
// missing (two replicas racing keep the first).
func (s *sealer) storedKey(ctx context.Context, create bool) ([]byte, error) {
	k, err := s.db.ServerKey(ctx, tokenKeyName)
	if errors.Is(err, database.ErrNotFound) && create {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("make token key: %w", err)
		}
		row := &models.ServerKey{Name: tokenKeyName, PrivateKeyPEM: base64.StdEncoding.EncodeToString(fresh), CreatedAt: s.now().UTC()}
		if err := s.db.InsertServerKey(ctx, row); err != nil {
			return nil, err
		}
		k, err = s.db.ServerKey(ctx, tokenKeyName)
	}
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(k.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return key, nil
}

func newAEAD(key []byte) (string, cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, fmt.Errorf("token key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, fmt.Errorf("token key: %w", err)
	}
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:6]), aead, nil
}
