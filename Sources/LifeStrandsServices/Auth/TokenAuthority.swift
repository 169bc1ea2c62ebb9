public import Foundation
import Hummingbird
public import JWTKit
import LlamaEngine

/// The claims of an access token: `sub` (a player's user id), `role`, a required `exp`, and `aud` and
/// `iss` where the server asks for them.
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim?
    public var aud: AudienceClaim?
    public var iss: IssuerClaim?
    public var role: String

    public init(
        role: Principal.Role, subject: String, expires: Date, issued: Date = Date(), audience: String? = nil, issuer: String? = nil
    ) {
        sub = SubjectClaim(value: subject)
        exp = ExpirationClaim(value: expires)
        iat = IssuedAtClaim(value: issued)
        aud = audience.map { AudienceClaim(value: [$0]) }
        iss = issuer.map { IssuerClaim(value: $0) }
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

/// What a token must say besides its signature: the audience and issuer a deployment names
/// (`JWT_AUDIENCE`, `JWT_ISSUER`), and the longest it may be valid for (`JWT_MAX_LIFETIME`), so a leaked
/// token meant for another system, or one minted to last a year, is refused.
public struct TokenPolicy: Sendable, Equatable {
    public var audience: String?
    public var issuer: String?
    /// From `iat` (or, without one, from now) to `exp`.
    public var maxLifetime: Duration

    public static let defaultMaxLifetime = Duration.seconds(30 * 86_400)

    public init(audience: String? = nil, issuer: String? = nil, maxLifetime: Duration = TokenPolicy.defaultMaxLifetime) {
        self.audience = audience
        self.issuer = issuer
        self.maxLifetime = maxLifetime
    }

    /// `90s`, `30m`, `12h`, `7d`, or plain seconds, up to a year: `--ttl` and `JWT_MAX_LIFETIME`.
    public static func lifetime(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let (digits, unit) = text.last.flatMap { units[$0] }.map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let count = Int64(digits), count >= 1, count <= 366 * 86_400 / unit else { return nil }
        return .seconds(count * unit)
    }

    /// - Throws: `.badClaims` naming the claim that does not meet the policy.
    func check(_ claims: AccessClaims, now: Date) throws(AuthenticationFailure) {
        if let audience, claims.aud?.value.contains(audience) != true {
            throw .badClaims("aud must include \(audience)")
        }
        if let issuer, claims.iss?.value != issuer { throw .badClaims("iss must be \(issuer)") }
        let start = min(claims.iat?.value ?? now, now)
        if claims.exp.value.timeIntervalSince(start) > maxLifetime.seconds + 60 {
            throw .badClaims("exp is more than \(Int(maxLifetime.seconds)) s after iat (JWT_MAX_LIFETIME)")
        }
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
    public let policy: TokenPolicy

    /// - Parameters:
    ///   - secret: the HS256 secret, at least 32 bytes.
    ///   - jwks: a JWKS document (JSON) of RS256 or EdDSA public keys, each with a `kid`.
    ///   - policy: the audience, issuer and longest lifetime tokens must have.
    /// - Throws: when `jwks` can't be read as keys.
    public init(secret: String?, jwks: String? = nil, policy: TokenPolicy = TokenPolicy()) async throws {
        self.policy = policy
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
        try policy.check(claims, now: Date())
        return Principal(role: role, subject: subject)
    }

    /// An HS256 token for `role` and `subject`, valid for `lifetime`, with the policy's audience and issuer.
    public func sign(role: Principal.Role, subject: String, lifetime: Duration, now: Date = Date()) async throws -> String {
        guard signs else { throw TokenSigningError(reason: "signing needs JWT_SECRET (JWKS keys are public keys)") }
        guard UserID.parse(subject) != nil else { throw TokenSigningError(reason: "--sub must be \(UserID.rule)") }
        guard lifetime <= policy.maxLifetime else {
            throw TokenSigningError(reason: "--ttl is longer than JWT_MAX_LIFETIME (\(Int(policy.maxLifetime.seconds)) s), so the server would refuse the token")
        }
        return try await keys.sign(
            AccessClaims(
                role: role, subject: subject, expires: now + lifetime.seconds, issued: now, audience: policy.audience,
                issuer: policy.issuer))
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
