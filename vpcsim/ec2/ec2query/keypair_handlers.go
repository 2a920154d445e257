package ec2query

import (
	"context"
	"encoding/base64"

	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// CreateKeyPair

type createKeyPairRequest struct {
	dryRunParam
	KeyName           string         `query:"KeyName"`
	KeyType           string         `query:"KeyType"`
	KeyFormat         string         `query:"KeyFormat"`
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type createKeyPairResponse struct {
	responseMeta
	KeyName        string      `xml:"keyName"`
	KeyFingerprint string      `xml:"keyFingerprint"`
	KeyMaterial    string      `xml:"keyMaterial"`
	KeyPairID      string      `xml:"keyPairId"`
	Tags           set[tagXML] `xml:"tagSet,omitempty"`
}

func (h *Handler) createKeyPair(ctx context.Context, s ec2sim.Scope, req *createKeyPairRequest) (*createKeyPairResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	k, material, err := h.cloud.CreateKeyPair(ctx, s, req.KeyName, req.KeyType, req.KeyFormat, tags["key-pair"])
	if err != nil {
		return nil, err
	}
	return &createKeyPairResponse{KeyName: k.Name, KeyFingerprint: k.Fingerprint, KeyMaterial: material, KeyPairID: k.ID, Tags: tagSet(k.Tags)}, nil
}

// ImportKeyPair

type importKeyPairRequest struct {
	dryRunParam
	KeyName           string         `query:"KeyName"`
	PublicKeyMaterial string         `query:"PublicKeyMaterial"` // a blob: base64
	TagSpecifications []tagSpecParam `query:"TagSpecification"`
}

type importKeyPairResponse struct {
	responseMeta
	KeyFingerprint string      `xml:"keyFingerprint"`
	KeyName        string      `xml:"keyName"`
	KeyPairID      string      `xml:"keyPairId"`
	Tags           set[tagXML] `xml:"tagSet,omitempty"`
}

func (h *Handler) importKeyPair(ctx context.Context, s ec2sim.Scope, req *importKeyPairRequest) (*importKeyPairResponse, error) {
	tags, err := tagSpecs(req.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	material, err := base64.StdEncoding.DecodeString(req.PublicKeyMaterial)
	if err != nil {
		return nil, errInvalidValue("Value for parameter PublicKeyMaterial is invalid. It must be base64-encoded.")
	}
	k, err := h.cloud.ImportKeyPair(ctx, s, req.KeyName, material, tags["key-pair"])
	if err != nil {
		return nil, err
	}
	return &importKeyPairResponse{KeyFingerprint: k.Fingerprint, KeyName: k.Name, KeyPairID: k.ID, Tags: tagSet(k.Tags)}, nil
}

// DescribeKeyPairs

type describeKeyPairsRequest struct {
	dryRunParam
	KeyNames         []string      `query:"KeyName"`
	KeyPairIDs       []string      `query:"KeyPairId"`
	IncludePublicKey bool          `query:"IncludePublicKey"`
	Filters          []filterParam `query:"Filter"`
}

type keyPairInfoXML struct {
	KeyPairID      string      `xml:"keyPairId"`
	KeyType        string      `xml:"keyType"`
	Tags           set[tagXML] `xml:"tagSet"`
	PublicKey      string      `xml:"publicKey,omitempty"`
	CreateTime     timestamp   `xml:"createTime"`
	KeyName        string      `xml:"keyName"`
	KeyFingerprint string      `xml:"keyFingerprint"`
}

type describeKeyPairsResponse struct {
	responseMeta
	KeyPairs set[keyPairInfoXML] `xml:"keySet"`
}

func (h *Handler) describeKeyPairs(ctx context.Context, s ec2sim.Scope, req *describeKeyPairsRequest) (*describeKeyPairsResponse, error) {
	keys, err := h.cloud.DescribeKeyPairs(ctx, s, req.KeyNames, req.KeyPairIDs, toFilters(req.Filters))
	if err != nil {
		return nil, err
	}
	resp := &describeKeyPairsResponse{KeyPairs: set[keyPairInfoXML]{}}
	for _, k := range keys {
		x := keyPairInfoXML{KeyPairID: k.ID, KeyType: k.Type, Tags: tagSet(k.Tags), CreateTime: timestamp(k.Created), KeyName: k.Name, KeyFingerprint: k.Fingerprint}
		if req.IncludePublicKey {
			x.PublicKey = k.PublicKey + " " + k.Name
		}
		resp.KeyPairs = append(resp.KeyPairs, x)
	}
	return resp, nil
}

// DeleteKeyPair

type deleteKeyPairRequest struct {
	dryRunParam
	KeyName   string `query:"KeyName"`
	KeyPairID string `query:"KeyPairId"`
}

type deleteKeyPairResponse struct {
	responseMeta
	Return    bool   `xml:"return"`
	KeyPairID string `xml:"keyPairId,omitempty"`
}

func (h *Handler) deleteKeyPair(ctx context.Context, s ec2sim.Scope, req *deleteKeyPairRequest) (*deleteKeyPairResponse, error) {
	id, err := h.cloud.DeleteKeyPair(ctx, s, req.KeyName, req.KeyPairID)
	if err != nil {
		return nil, err
	}
	return &deleteKeyPairResponse{Return: true, KeyPairID: id}, nil
}
