package posts

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

const corePrefix = "io.pnut.core."

// parseRaw checks pnut's raw: an object of type → list of objects, at most
// MaxRawBytes serialised, with io.pnut.core types validated.
func (p *Processor) parseRaw(data json.RawMessage) (models.Raw, error) {
	if len(data) == 0 || string(data) == "null" {
		return models.Raw{}, nil
	}
	if len(data) > p.rules.MaxRawBytes {
		return nil, errs.Invalid("raw", "raw_too_large", "raw must be at most %d bytes", p.rules.MaxRawBytes)
	}
	var raw models.Raw
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errs.Invalid("raw", "invalid_raw", "raw must be an object of type names to lists of objects")
	}
	for typ, items := range raw {
		if typ == "" {
			return nil, errs.Invalid("raw", "invalid_raw", "raw type names must not be empty")
		}
		for _, item := range items {
			if err := checkRawItem(typ, item); err != nil {
				return nil, err
			}
		}
	}
	return raw, nil
}

func checkRawItem(typ string, item json.RawMessage) error {
	var fields map[string]any
	if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
		return errs.Invalid("raw."+typ, "invalid_raw", "each %s item must be an object", typ)
	}
	if !strings.HasPrefix(typ, corePrefix) {
		return nil
	}
	switch strings.TrimPrefix(typ, corePrefix) {
	case "crosspost":
		return checkCrosspost(fields)
	case "language":
		return checkLanguage(fields)
	case "fallback_url":
		if !isWebURL(fields["url"]) {
			return errs.Invalid("raw."+typ, "invalid_raw", "io.pnut.core.fallback_url needs a url")
		}
		return nil
	case "oembed":
		return nil
	default:
		return errs.Invalid("raw."+typ, "invalid_raw", "%s is not a known io.pnut.core type", typ)
	}
}

func checkCrosspost(fields map[string]any) error {
	const field = "raw.io.pnut.core.crosspost"
	if !isWebURL(fields["canonical_url"]) {
		return errs.Invalid(field, "invalid_raw", "io.pnut.core.crosspost needs a canonical_url that is an http(s) URL")
	}
	if src, present := fields["source"]; present {
		m, ok := src.(map[string]any)
		name, _ := m["name"].(string)
		if !ok || name == "" || !isWebURL(m["url"]) {
			return errs.Invalid(field, "invalid_raw", "io.pnut.core.crosspost source needs both name and url")
		}
	}
	return nil
}

func checkLanguage(fields map[string]any) error {
	lang, _ := fields["language"].(string)
	if !iso639_1[strings.ToLower(lang)] {
		return errs.Invalid("raw.io.pnut.core.language", "invalid_raw", "language must be an ISO 639-1 code like en or de")
	}
	return nil
}

func isWebURL(v any) bool {
	s, _ := v.(string)
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// iso639_1 is every two-letter ISO 639-1 language code.
var iso639_1 = func() map[string]bool {
	const codes = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy " +
		"da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz " +
		"ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo " +
		"lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps " +
		"pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn " +
		"to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
	set := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		set[c] = true
	}
	return set
}()
