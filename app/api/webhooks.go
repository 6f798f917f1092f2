package api

import (
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pecan-social/pecan/app/convert"
	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/app/webhooks"
	"github.com/pecan-social/pecan/streams"
)

// webhookBody is POST /webhooks and PATCH /webhooks/{id}.
type webhookBody struct {
	Name           *string            `json:"name"`
	URL            *string            `json:"url"`
	Events         *nameList          `json:"events"`
	Headers        *map[string]string `json:"headers"`
	RetryCount     *Int               `json:"retry_count"`
	TimeoutSeconds *Int               `json:"timeout_seconds"`
}

// nameList accepts a JSON list of strings or, as forms send it, one
// comma-separated string.
type nameList []string

func (l *nameList) UnmarshalJSON(data []byte) error {
	var list []string
	if err := json.Unmarshal(data, &list); err == nil {
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errs.Invalid("events", "invalid_type", "events must be a list of event types or a comma-separated string")
	}
	*l = nameList{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

func readWebhookInput(c echo.Context) (webhooks.Input, error) {
	var body webhookBody
	if err := decodeBody(c, &body); err != nil {
		return webhooks.Input{}, err
	}
	in := webhooks.Input{Name: body.Name, URL: body.URL}
	if body.Events != nil {
		in.Events = append([]string{}, *body.Events...)
	}
	if body.Headers != nil {
		in.Headers = *body.Headers
		if in.Headers == nil {
			in.Headers = map[string]string{}
		}
	}
	in.RetryCount = intPtr(body.RetryCount)
	in.TimeoutSeconds = intPtr(body.TimeoutSeconds)
	return in, nil
}

func intPtr(n *Int) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

func (s *server) createWebhook(c echo.Context) error {
	in, err := readWebhookInput(c)
	if err != nil {
		return err
	}
	w, err := s.webhooks.Create(c.Request().Context(), viewer(c), in)
	if err != nil {
		return err
	}
	return created(c, convert.ToWebhook(w, true))
}

func (s *server) listWebhooks(c echo.Context) error {
	list, err := s.webhooks.List(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return ok(c, convert.ToWebhooks(list))
}

func (s *server) getWebhook(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	w, err := s.webhooks.Owned(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToWebhook(w, false))
}

func (s *server) updateWebhook(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	in, err := readWebhookInput(c)
	if err != nil {
		return err
	}
	w, err := s.webhooks.Update(c.Request().Context(), viewer(c), id, in)
	if err != nil {
		return err
	}
	return ok(c, convert.ToWebhook(w, false))
}

func (s *server) deleteWebhook(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	w, err := s.webhooks.Delete(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToWebhook(w, false))
}

func (s *server) rotateWebhookSecret(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	w, err := s.webhooks.RotateSecret(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return ok(c, convert.ToWebhook(w, true))
}

func (s *server) testWebhook(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	d, err := s.webhooks.Test(c.Request().Context(), viewer(c), id)
	if err != nil {
		return err
	}
	return created(c, convert.ToDelivery(d))
}

func (s *server) webhookDeliveries(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	page, err := streams.ParsePage(c.QueryParams(), nil)
	if err != nil {
		return err
	}
	list, more, err := s.webhooks.Deliveries(c.Request().Context(), viewer(c), id, page.BeforeID, page.SinceID, page.Count)
	if err != nil {
		return err
	}
	meta := Meta{Code: 200, More: &more}
	if n := len(list); n > 0 {
		meta.MaxID, meta.MinID = convert.ID(list[0].ID), convert.ID(list[n-1].ID)
	}
	return render(c, Envelope{Meta: meta, Data: convert.ToDeliveries(list)})
}

func (s *server) redeliver(c echo.Context) error {
	id, err := pathID(c, "id", "webhook")
	if err != nil {
		return err
	}
	deliveryID, err := pathID(c, "delivery_id", "delivery")
	if err != nil {
		return err
	}
	d, err := s.webhooks.Redeliver(c.Request().Context(), viewer(c), id, deliveryID)
	if err != nil {
		return err
	}
	return ok(c, convert.ToDelivery(d))
}
