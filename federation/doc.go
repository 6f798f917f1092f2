// Package federation will hold ActivityPub: WebFinger, NodeInfo, actor and
// object documents, inbox processing, outbound activities and HTTP
// Signatures. It is empty until posts exist.
package federation
