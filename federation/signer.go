package federation

import (
	"context"
	"net/http"

	"github.com/pecan-social/pecan/models"
)

// Sign signs an activity delivery with the key of the local user who sent
// it (SignerRef), at send time, so each retry carries a fresh Date.
func (s *Service) Sign(ctx context.Context, req *http.Request, d *models.Delivery) error {
	key, keyID, err := s.signingKey(ctx, d.SignerRef)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Accept", AcceptActivityPub)
	return SignRequest(req, []byte(d.Body), keyID, key, s.now())
}
