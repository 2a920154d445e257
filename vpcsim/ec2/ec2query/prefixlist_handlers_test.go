package ec2query

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"
)

// Prefix lists over HTTP: the model's element names, paging, EC2's error
// codes, and the lists in use in a group's rules and a route table.
func TestPrefixListsOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	var pl struct {
		ID           string   `xml:"prefixList>prefixListId"`
		Family       string   `xml:"prefixList>addressFamily"`
		State        string   `xml:"prefixList>state"`
		StateMessage *string  `xml:"prefixList>stateMessage"`
		ARN          string   `xml:"prefixList>prefixListArn"`
		Name         string   `xml:"prefixList>prefixListName"`
		Max          int      `xml:"prefixList>maxEntries"`
		Version      int64    `xml:"prefixList>version"`
		Tags         []string `xml:"prefixList>tagSet>item>key"`
		Owner        string   `xml:"prefixList>ownerId"`
	}
	decode := func(body []byte, out any) {
		t.Helper()
		if err := xml.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
	decode(ts.call(t, "CreateManagedPrefixList", "PrefixListName", "offices", "AddressFamily", "IPv4", "MaxEntries", "4",
		"Entry.1.Cidr", "10.3.0.0/16", "Entry.2.Cidr", "10.1.0.0/16", "Entry.2.Description", "hq", "Entry.3.Cidr", "10.2.0.0/16",
		"TagSpecification.1.ResourceType", "prefix-list", "TagSpecification.1.Tag.1.Key", "team", "ClientToken", "abc"), &pl)
	if !strings.HasPrefix(pl.ID, "pl-") || pl.Family != "IPv4" || pl.State != "create-complete" || pl.StateMessage != nil ||
		pl.ARN != "arn:aws:ec2:us-west-2:123456789012:prefix-list/"+pl.ID || pl.Name != "offices" || pl.Max != 4 || pl.Version != 1 ||
		!slices.Equal(pl.Tags, []string{"team"}) || pl.Owner != "123456789012" {
		t.Fatalf("CreateManagedPrefixList: %+v", pl)
	}

	// Entries by CIDR, a page at a time.
	var page1, page2 struct {
		Entries []struct {
			Cidr        string `xml:"cidr"`
			Description string `xml:"description"`
		} `xml:"entrySet>item"`
		Next string `xml:"nextToken"`
	}
	decode(ts.call(t, "GetManagedPrefixListEntries", "PrefixListId", pl.ID, "MaxResults", "2"), &page1)
	decode(ts.call(t, "GetManagedPrefixListEntries", "PrefixListId", pl.ID, "MaxResults", "2", "NextToken", page1.Next), &page2)
	if len(page1.Entries) != 2 || page1.Entries[0].Cidr != "10.1.0.0/16" || page1.Entries[0].Description != "hq" || page1.Next == "" ||
		len(page2.Entries) != 1 || page2.Entries[0].Cidr != "10.3.0.0/16" || page2.Next != "" {
		t.Fatalf("the entries' pages: %+v, %+v", page1, page2)
	}

	for _, c := range []struct {
		action string
		kv     []string
		code   string
	}{
		{"ModifyManagedPrefixList", []string{"PrefixListId", pl.ID, "CurrentVersion", "7", "AddEntry.1.Cidr", "10.9.0.0/16"}, "PrefixListVersionMismatch"},
		{"ModifyManagedPrefixList", []string{"PrefixListId", pl.ID, "MaxEntries", "9", "AddEntry.1.Cidr", "10.9.0.0/16"}, "InvalidParameterCombination"},
		{"ModifyManagedPrefixList", []string{"PrefixListId", pl.ID, "AddEntry.1.Cidr", "10.1.0.0/16"}, "InvalidPrefixListModification"},
		{"ModifyManagedPrefixList", []string{"PrefixListId", pl.ID, "IpamPrefixListResolverSyncEnabled", "true"}, "UnsupportedOperation"},
		{"DescribeManagedPrefixLists", []string{"PrefixListId.1", "pl-0123456789abcdef0"}, "InvalidPrefixListID.NotFound"},
		{"DescribeManagedPrefixLists", []string{"MaxResults", "101"}, "InvalidParameterValue"},
		{"GetManagedPrefixListEntries", []string{"PrefixListId", pl.ID, "TargetVersion", "2"}, "InvalidParameterValue"},
		{"RestoreManagedPrefixListVersion", []string{"PrefixListId", pl.ID, "PreviousVersion", "1"}, "MissingParameter"},
		{"CreateManagedPrefixList", []string{"PrefixListName", "x", "AddressFamily", "IPv4"}, "MissingParameter"},
		{"CreateManagedPrefixList", []string{"PrefixListName", "x", "AddressFamily", "IPv4", "MaxEntries", "1", "ClientToken", "abc"}, "IdempotentParameterMismatch"},
		{"DescribePrefixLists", []string{"PrefixListId.1", pl.ID}, "InvalidPrefixListID.NotFound"},
		{"CreateManagedPrefixList", []string{"PrefixListName", "x", "AddressFamily", "IPv4", "MaxEntries", "1", "DryRun", "true"}, "DryRunOperation"},
	} {
		if _, code, msg := ts.fail(t, c.action, c.kv...); code != c.code {
			t.Errorf("%s %v: %s (%s), want %s", c.action, c.kv, code, msg, c.code)
		}
	}

	// Used by a rule and a route: described there, and in the associations.
	var vpc struct {
		ID string `xml:"vpc>vpcId"`
	}
	decode(ts.call(t, "CreateVpc", "CidrBlock", "10.0.0.0/16"), &vpc)
	var sg struct {
		ID string `xml:"groupId"`
	}
	decode(ts.call(t, "CreateSecurityGroup", "GroupName", "web", "GroupDescription", "web", "VpcId", vpc.ID), &sg)
	ts.call(t, "AuthorizeSecurityGroupIngress", "GroupId", sg.ID, "IpPermissions.1.IpProtocol", "tcp", "IpPermissions.1.FromPort", "443",
		"IpPermissions.1.ToPort", "443", "IpPermissions.1.PrefixListIds.1.PrefixListId", pl.ID, "IpPermissions.1.PrefixListIds.1.Description", "offices")
	type ruleXML struct {
		PrefixListID string `xml:"prefixListId"`
		Description  string `xml:"description"`
	}
	var rules struct {
		Rules []ruleXML `xml:"securityGroupRuleSet>item"`
	}
	decode(ts.call(t, "DescribeSecurityGroupRules", "Filter.1.Name", "group-id", "Filter.1.Value.1", sg.ID), &rules)
	if !slices.Contains(rules.Rules, ruleXML{pl.ID, "offices"}) {
		t.Errorf("DescribeSecurityGroupRules: %+v", rules)
	}
	var rt struct {
		ID string `xml:"routeTable>routeTableId"`
	}
	decode(ts.call(t, "CreateRouteTable", "VpcId", vpc.ID), &rt)
	var igw struct {
		ID string `xml:"internetGateway>internetGatewayId"`
	}
	decode(ts.call(t, "CreateInternetGateway"), &igw)
	ts.call(t, "AttachInternetGateway", "InternetGatewayId", igw.ID, "VpcId", vpc.ID)
	ts.call(t, "CreateRoute", "RouteTableId", rt.ID, "DestinationPrefixListId", pl.ID, "GatewayId", igw.ID)
	var tables struct {
		Routes []struct {
			Dest  string `xml:"destinationPrefixListId"`
			CIDR  string `xml:"destinationCidrBlock"`
			State string `xml:"state"`
		} `xml:"routeTableSet>item>routeSet>item"`
	}
	decode(ts.call(t, "DescribeRouteTables", "RouteTableId.1", rt.ID), &tables)
	if len(tables.Routes) != 2 || tables.Routes[1].Dest != pl.ID || tables.Routes[1].CIDR != "" || tables.Routes[1].State != "active" {
		t.Errorf("DescribeRouteTables: %+v", tables)
	}
	var assocs struct {
		Assocs []struct {
			ID    string `xml:"resourceId"`
			Owner string `xml:"resourceOwner"`
		} `xml:"prefixListAssociationSet>item"`
	}
	decode(ts.call(t, "GetManagedPrefixListAssociations", "PrefixListId", pl.ID), &assocs)
	if len(assocs.Assocs) != 2 || assocs.Assocs[0].ID != sg.ID || assocs.Assocs[1].ID != rt.ID || assocs.Assocs[0].Owner != "123456789012" {
		t.Errorf("GetManagedPrefixListAssociations: %+v", assocs)
	}
	decode(ts.call(t, "DeleteManagedPrefixList", "PrefixListId", pl.ID), &pl)
	if pl.State != "delete-failed" || pl.StateMessage == nil || !strings.Contains(*pl.StateMessage, rt.ID) {
		t.Errorf("DeleteManagedPrefixList of a list in use: %+v", pl)
	}
	var described struct {
		Lists []struct {
			ID    string `xml:"prefixListId"`
			State string `xml:"state"`
		} `xml:"prefixListSet>item"`
	}
	decode(ts.call(t, "DescribeManagedPrefixLists", "Filter.1.Name", "prefix-list-id", "Filter.1.Value.1", pl.ID), &described)
	if len(described.Lists) != 1 || described.Lists[0].State != "delete-failed" {
		t.Errorf("DescribeManagedPrefixLists after the failed delete: %+v", described)
	}
	var aws struct {
		Lists []string `xml:"prefixListSet>item>prefixListId"`
	}
	decode(ts.call(t, "DescribePrefixLists"), &aws)
	if len(aws.Lists) != 0 {
		t.Errorf("DescribePrefixLists: %v", aws.Lists)
	}
}
