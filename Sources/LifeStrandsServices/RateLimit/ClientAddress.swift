import Foundation
import HTTPTypes
import Hummingbird

/// An IPv4 or IPv6 address, or a CIDR block of them (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), as
/// `TRUSTED_PROXIES` lists them.
public struct AddressBlock: Sendable, Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let prefixLength: Int

    /// Nil for anything that is not an address or a block with a prefix length that fits it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        let prefixLength = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let prefixLength, (0...(bytes.count * 8)).contains(prefixLength) else { return nil }
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

    public var description: String { "\(Self.text(of: bytes))/\(prefixLength)" }

    /// Whether `address` (written as a peer's address is) lies in this block. An IPv4 address seen as
    /// IPv6 (`::ffff:10.1.2.3`, from a dual-stack socket) is taken as the IPv4 one.
    public func contains(_ address: String) -> Bool {
        guard let other = Self.bytes(of: address), other.count == bytes.count else { return false }
        var left = prefixLength
        for (mine, theirs) in zip(bytes, other) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            guard mine & mask == theirs & mask else { return false }
            left -= 8
        }
        return true
    }

    /// 4 bytes for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address gives its 4.
    static func bytes(of text: String) -> [UInt8]? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }  // a zone id
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    static func text(of bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// Which client address a request counts under. Directly connected, it is the peer's; through a proxy
/// listed in `TRUSTED_PROXIES`, it is the last address of `X-Forwarded-For` that is not itself a trusted
/// proxy. A header from any other peer is ignored, so a client cannot choose its own address.
public struct ClientAddressPolicy: Sendable, Equatable {
    public var trustedProxies: [AddressBlock]

    public init(trustedProxies: [AddressBlock] = []) { self.trustedProxies = trustedProxies }

    func isTrusted(_ address: String) -> Bool { trustedProxies.contains { $0.contains(address) } }

    /// The client's address, from the peer's and the `X-Forwarded-For` values in the order they arrived.
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, isTrusted(peer) else { return peer }
        // Each proxy appends the address it heard from; read from the nearest one back.
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            guard AddressBlock.bytes(of: hop) != nil else { break }
            client = hop
            if !isTrusted(hop) { break }
        }
        return client
    }
}

/// Sets the request's client address by `ClientAddressPolicy`, before anything counts by it.
struct ClientAddressMiddleware: RouterMiddleware {
    let policy: ClientAddressPolicy

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard !policy.trustedProxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = policy.clientAddress(
            peer: context.clientAddress, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
