package federation

import (
	"context"
)

// NodeInfoLinks is /.well-known/nodeinfo.
func (s *Service) NodeInfoLinks() map[string]any {
	return map[string]any{"links": []map[string]string{
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": s.site.Base + "/nodeinfo/2.0"},
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": s.site.Base + "/nodeinfo/2.1"},
	}}
}

// NodeInfo is the NodeInfo document of the given version ("2.0" or "2.1")
// with this instance's real counts.
func (s *Service) NodeInfo(ctx context.Context, version, softwareVersion string, openRegistrations bool) (map[string]any, error) {
	usage, err := s.db.Usage(ctx, s.now())
	if err != nil {
		return nil, err
	}
	software := map[string]any{"name": "pecan", "version": softwareVersion}
	if version == "2.1" {
		software["repository"] = "https://github.com/pecan-social/pecan"
		software["homepage"] = "https://github.com/pecan-social/pecan"
	}
	return map[string]any{
		"version":           version,
		"software":          software,
		"protocols":         []string{"activitypub"},
		"services":          map[string]any{"inbound": []string{}, "outbound": []string{}},
		"openRegistrations": openRegistrations,
		"usage": map[string]any{
			"users":      map[string]int64{"total": usage.Users, "activeMonth": usage.ActiveMonth, "activeHalfyear": usage.ActiveHalfyear},
			"localPosts": usage.LocalPosts,
		},
		"metadata": map[string]any{"nodeName": s.site.Host()},
	}, nil
}
