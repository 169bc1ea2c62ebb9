public import Foundation

extension Configuration {
    /// Who may call the server, from where, and how often: tokens, browsers, rate limits, proxies.
    public struct Access: Sendable, Equatable {
        /// HS256 secret for access tokens; set, every non-public route needs a token.
        public var jwtSecret: String?
        /// A JWKS file of RS256/EdDSA public keys that also sign access tokens.
        public var jwtJWKSFile: String?
        /// The `aud` tokens must include (`JWT_AUDIENCE`), the `iss` they must have (`JWT_ISSUER`), and the
        /// longest they may be valid for (`JWT_MAX_LIFETIME`).
        public var tokenPolicy = TokenPolicy()
        /// Serve without authentication on a non-loopback address (`ALLOW_ANONYMOUS`): only where the network
        /// itself is trusted.
        public var allowAnonymous = false
        /// Origins besides the server's own whose pages may call it (`CORS_ALLOWED_ORIGINS`, comma-separated).
        public var corsAllowedOrigins: Set<String> = []
        /// Host names besides loopback names the server answers on loopback (`ALLOWED_HOSTS`, comma-separated).
        public var allowedHosts: Set<String> = []
        public var rateLimits = RateLimits()
        /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`, addresses or CIDR blocks).
        public var clientAddresses = ClientAddressPolicy()
        /// WebSocket connections one principal may hold open at once (`WS_MAX_CONNECTIONS_PER_PLAYER`).
        public var maxSocketsPerPlayer = 4

        public init() {}

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Access {
            var access = Access()
            access.jwtSecret = try reader.string("JWT_SECRET")
            if let secret = access.jwtSecret, secret.utf8.count < 32 {
                throw ConfigurationError(variable: "JWT_SECRET", value: "(hidden)", expected: "at least 32 bytes")
            }
            access.jwtJWKSFile = try reader.string("JWT_JWKS_FILE")
            access.tokenPolicy.audience = try reader.string("JWT_AUDIENCE")
            access.tokenPolicy.issuer = try reader.string("JWT_ISSUER")
            if let text = try reader.string("JWT_MAX_LIFETIME") {
                guard let lifetime = TokenPolicy.lifetime(text) else {
                    throw ConfigurationError(
                        variable: "JWT_MAX_LIFETIME", value: text, expected: "a duration such as 15m, 12h or 30d (at most 366d)")
                }
                access.tokenPolicy.maxLifetime = lifetime
            }
            access.allowAnonymous = try reader.bool("ALLOW_ANONYMOUS") ?? access.allowAnonymous
            access.corsAllowedOrigins = reader.list("CORS_ALLOWED_ORIGINS") ?? access.corsAllowedOrigins
            access.allowedHosts = Set((reader.list("ALLOWED_HOSTS") ?? access.allowedHosts).map { $0.lowercased() })
            for group in RateGroup.allCases {
                let name = "RATE_LIMIT_" + group.rawValue.uppercased().replacingOccurrences(of: "SOCKET_FRAMES", with: "WS_FRAMES")
                guard let text = try reader.string(name) else { continue }
                guard let rate = TokenBucket.Rate.parse(text) else {
                    throw ConfigurationError(variable: name, value: text, expected: "a rate such as 30/min, 5/s, 100/10s or 1000/h")
                }
                access.rateLimits.rates[group] = rate
            }
            access.rateLimits.playersPerAddress =
                try reader.integer("RATE_LIMIT_PLAYERS_PER_ADDRESS", in: 1...100_000) ?? access.rateLimits.playersPerAddress
            if let proxies = reader.list("TRUSTED_PROXIES") {
                access.clientAddresses.trustedProxies = []
                for text in proxies.sorted() {
                    guard let block = AddressBlock(text) else {
                        throw ConfigurationError(
                            variable: "TRUSTED_PROXIES", value: text,
                            expected: "IP addresses or CIDR blocks, comma-separated (10.0.0.0/8, ::1)")
                    }
                    access.clientAddresses.trustedProxies.append(block)
                }
            }
            access.maxSocketsPerPlayer =
                try reader.integer("WS_MAX_CONNECTIONS_PER_PLAYER", in: 1...1024) ?? access.maxSocketsPerPlayer
            return access
        }
    }
}
