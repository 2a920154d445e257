package ec2query

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// ec2Namespace is the xmlns of every EC2 success response.
const ec2Namespace = "http://ec2.amazonaws.com/doc/" + apiVersion + "/"

// response is what every handler returns: a struct embedding responseMeta, whose
// fields carry the model's output locationNames as XML names.
type response interface {
	setRequestID(string)
}

// responseMeta is embedded first in every response struct, so <requestId> comes
// first, as in AWS's answers.
type responseMeta struct {
	RequestID string `xml:"requestId"`
}

func (m *responseMeta) setRequestID(id string) { m.RequestID = id }

// marshalResponse renders a success: <ActionResponse xmlns="…"><requestId>…</requestId>…
func marshalResponse(action, requestID string, body response) ([]byte, error) {
	body.setRequestID(requestID)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	start := xml.StartElement{Name: xml.Name{Space: ec2Namespace, Local: action + "Response"}}
	if err := xml.NewEncoder(&b).EncodeElement(body, start); err != nil {
		return nil, fmt.Errorf("render %s: %w", action, err)
	}
	return b.Bytes(), nil
}

// marshalError renders an error in EC2's envelope.
func marshalError(e *apiError, requestID string) []byte {
	return awsproto.EC2Envelope{}.Marshal(e, requestID)
}

// set is a list rendered as AWS renders lists: <nameSet><item>…</item></nameSet>.
// Without omitempty in its tag an empty set is still rendered (<nameSet/>), which
// clients parse as [] — AWS does so for e.g. ipPermissions and groupSet; with
// omitempty it is left out, which clients parse as absent — AWS does so for e.g. an
// untagged VPC's tagSet.
type set[T any] []T

func (s set[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	item := xml.StartElement{Name: xml.Name{Local: "item"}}
	for _, v := range s {
		if err := e.EncodeElement(v, item); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// timestamp renders as EC2 does: ISO 8601 in UTC with milliseconds
// (2026-11-24T19:56:52.000Z). The zero time is left out.
type timestamp time.Time

func (t timestamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if time.Time(t).IsZero() {
		return nil
	}
	return e.EncodeElement(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z"), start)
}
