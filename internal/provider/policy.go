/*
Copyright 2026 The tokenwarden authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package provider

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// AddressPolicy refuses connections to blocked networks: the manager-level answer to a
// connection whose tokenURL or issuerURL aims at the cloud metadata service or another
// internal address. It is checked on the address actually dialled, after name resolution,
// so a name that resolves to a blocked address (DNS rebinding included) is refused too.
type AddressPolicy struct {
	blocked []netip.Prefix
}

// DefaultBlockedNetworks are link-local addresses (IPv4 and IPv6, which hold the AWS, GCP
// and Azure metadata services at 169.254.169.254 and fd00:ec2::254's neighbours) and the
// other clouds' metadata addresses.
var DefaultBlockedNetworks = []string{
	"169.254.0.0/16",     // IPv4 link-local, cloud metadata (AWS, GCP, Azure, OpenStack)
	"fe80::/10",          // IPv6 link-local
	"fd00:ec2::254/128",  // AWS metadata over IPv6
	"100.100.100.200/32", // Alibaba Cloud metadata
	"192.0.0.192/32",     // Oracle Cloud metadata
}

// ParseAddressPolicy reads a --token-url-policy value: a comma-separated list of CIDRs or
// addresses to block, where "default" stands for DefaultBlockedNetworks and "none" blocks
// nothing.
func ParseAddressPolicy(spec string) (*AddressPolicy, error) {
	p := &AddressPolicy{}
	for entry := range strings.SplitSeq(spec, ",") {
		entry = strings.TrimSpace(entry)
		switch entry {
		case "", "none":
			continue
		case "default":
			for _, d := range DefaultBlockedNetworks {
				p.blocked = append(p.blocked, netip.MustParsePrefix(d))
			}
			continue
		}
		if prefix, err := netip.ParsePrefix(entry); err == nil {
			p.blocked = append(p.blocked, prefix.Masked())
			continue
		}
		addr, err := netip.ParseAddr(entry)
		if err != nil {
			return nil, fmt.Errorf("--token-url-policy: %q is neither a CIDR nor an address", entry)
		}
		p.blocked = append(p.blocked, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return p, nil
}

// DefaultAddressPolicy blocks DefaultBlockedNetworks.
func DefaultAddressPolicy() *AddressPolicy {
	p, _ := ParseAddressPolicy("default")
	return p
}

// Blocks reports whether the address is refused.
func (p *AddressPolicy) Blocks(addr netip.Addr) bool {
	if p == nil {
		return false
	}
	addr = addr.Unmap()
	for _, b := range p.blocked {
		if b.Contains(addr) {
			return true
		}
	}
	return false
}

// errBlockedAddress is the dial error for a blocked address.
type errBlockedAddress struct{ addr string }

func (e *errBlockedAddress) Error() string {
	return fmt.Sprintf("address %s is blocked by the manager's --token-url-policy", e.addr)
}

// control is a net.Dialer Control function enforcing the policy on each dialled address.
func (p *AddressPolicy) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if p.Blocks(addr) {
		return &errBlockedAddress{addr: addr.String()}
	}
	return nil
}
