public import Foundation
import Hummingbird
public import JWTKit
import LlamaEngine

/// The claims of an access token: `sub` (a player's user id), `role`, and a required `exp`.
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim?
    public var role: String

    public init(role: Principal.Role, subject: String, expires: Date, issued: Date = Date()) {
        sub = SubjectClaim(value: subject)
        exp = ExpirationClaim(value: expires)
        iat = IssuedAtClaim(value: issued)
        self.role = role.rawValue
    }

    public func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

/// Why a request's credentials were refused: a 401 with `WWW-Authenticate`, as RFC 6750 describes.
public enum AuthenticationFailure: Error, Equatable, APIErrorConvertible {
    case missing
    case malformed
    case expired
    case badSignature
    case wrongAlgorithm(String)
    case badClaims(String)

    var reason: String {
        switch self {
        case .missing: "this route needs a bearer token (Authorization: Bearer …)"
        case .malformed: "the bearer token is not a JWT"
        case .expired: "the token has expired"
        case .badSignature: "the token's signature does not verify"
        case .wrongAlgorithm(let algorithm): "tokens signed with \(algorithm) are not accepted"
        case .badClaims(let why): "the token's claims are not usable: \(why)"
        }
    }

    var apiError: APIError {
        var challenge = #"Bearer realm="lifestrands""#
        if self != .missing { challenge += #", error="invalid_token", error_description="\#(reason)""# }
        return APIError(.unauthorized, code: "unauthorized", message: reason, headers: [.wwwAuthenticate: challenge])
    }
}

/// Verifies access tokens, and signs them for `lifestrands token create` and tests.
///
/// HS256 with `JWT_SECRET`; RS256 and EdDSA with the public keys of a JWKS file, picked by `kid`. A token's
/// `alg` must be one the configured keys use: `none`, and HS256 signed with a public key, are refused.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    private let algorithms: Set<String>
    private let signs: Bool

    /// - Parameters:
    ///   - secret: the HS256 secret, at least 32 bytes.
    ///   - jwks: a JWKS document (JSON) of RS256 or EdDSA public keys, each with a `kid`.
    /// - Throws: when `jwks` can't be read as keys.
    public init(secret: String?, jwks: String? = nil) async throws {
        keys = JWTKeyCollection()
        var algorithms: Set<String> = []
        if let secret {
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            algorithms.insert("HS256")
        }
        if let jwks {
            try await keys.add(jwksJSON: jwks)
            algorithms.formUnion(["RS256", "EdDSA"])
        }
        self.algorithms = algorithms
        signs = secret != nil
    }

    /// The principal a token stands for. - Throws: `AuthenticationFailure`.
    public func verify(_ token: String) async throws(AuthenticationFailure) -> Principal {
        guard let algorithm = Self.algorithm(of: token) else { throw .malformed }
        guard algorithms.contains(algorithm) else { throw .wrongAlgorithm(algorithm) }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError {
            switch error.errorType {
            case .claimVerificationFailure where error.failedClaim is ExpirationClaim: throw .expired
            case .signatureVerificationFailed: throw .badSignature
            case .malformedToken: throw .malformed
            default: throw .badClaims("\(error.reason ?? "\(error.errorType)")")
            }
        } catch {
            // A payload that does not decode: `sub`, `exp` or `role` missing or of the wrong type.
            throw .badClaims("sub, exp and role are required")
        }
        guard let role = Principal.Role(rawValue: claims.role) else {
            throw .badClaims("role must be one of " + Principal.Role.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let subject = UserID.parse(claims.sub.value) else { throw .badClaims("sub must be \(UserID.rule)") }
        return Principal(role: role, subject: subject)
    }

    /// An HS256 token for `role` and `subject`, valid for `lifetime`.
    public func sign(role: Principal.Role, subject: String, lifetime: Duration, now: Date = Date()) async throws -> String {
        guard signs else { throw TokenSigningError(reason: "signing needs JWT_SECRET (JWKS keys are public keys)") }
        guard UserID.parse(subject) != nil else { throw TokenSigningError(reason: "--sub must be \(UserID.rule)") }
        return try await keys.sign(AccessClaims(role: role, subject: subject, expires: now + lifetime.seconds, issued: now))
    }

    /// The `alg` of a compact JWS's header, if it has one.
    static func algorithm(of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Data(base64URLEncoded: parts[0]),
            let fields = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
        else { return nil }
        return fields["alg"] as? String
    }
}

public struct TokenSigningError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension Data {
    /// Base64url without padding, as JWTs write it.
    init?(base64URLEncoded text: Substring) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
