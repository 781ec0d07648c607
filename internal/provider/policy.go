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
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
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

// Blocks reports whether the address is refused. An IPv6 zone (fe80::1%eth0) is no
// escape: netip's prefixes contain no zoned address, so the zone is dropped first.
func (p *AddressPolicy) Blocks(addr netip.Addr) bool {
	if p == nil {
		return false
	}
	addr = addr.WithZone("").Unmap()
	for _, b := range p.blocked {
		if b.Contains(addr) {
			return true
		}
	}
	return false
}

// errBlockedAddress is the error for a blocked address: dialled, or the target of a
// request sent through a proxy. It names addresses only.
type errBlockedAddress struct {
	addr string
	name string // the host name that resolved to addr, for a proxied request
}

func (e *errBlockedAddress) Error() string {
	if e.name != "" {
		return fmt.Sprintf("%s resolves to %s, which the manager's --token-url-policy blocks (checked before sending through the proxy)", e.name, e.addr)
	}
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

// checkTarget enforces the policy on a request's target host when the request goes
// through a proxy: the dialler then sees only the proxy's address, and the target would go
// out in a CONNECT. A literal address is checked as it is; a name is resolved with the
// default resolver, and refused if any of its addresses is blocked. A name that does not
// resolve here is left to the proxy: where the only way out is a proxy, outside names
// often resolve there alone.
func (p *AddressPolicy) checkTarget(ctx context.Context, host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if p.Blocks(addr) {
			return &errBlockedAddress{addr: addr.WithZone("").String()}
		}
		return nil
	}
	if p == nil || len(p.blocked) == 0 {
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, addr := range addrs {
		if p.Blocks(addr) {
			return &errBlockedAddress{addr: addr.WithZone("").Unmap().String(), name: host}
		}
	}
	return nil
}

// proxy wraps a Transport's Proxy function: a request that will go through a proxy has
// its target checked first (all proxy kinds, SOCKS5 included).
func (p *AddressPolicy) proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		u, err := next(r)
		if err != nil || u == nil {
			return u, err
		}
		if err := p.checkTarget(r.Context(), r.URL.Host); err != nil {
			return nil, err
		}
		return u, nil
	}
}

// proxyConnectHeader is a Transport's GetProxyConnectHeader: the last word before a
// CONNECT goes out, it checks the target even when the Transport's Proxy function has been
// replaced.
func (p *AddressPolicy) proxyConnectHeader(ctx context.Context, _ *url.URL, target string) (http.Header, error) {
	if err := p.checkTarget(ctx, target); err != nil {
		return nil, err
	}
	return nil, nil
}
