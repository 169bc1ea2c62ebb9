extension Configuration {
    /// The summary service: analysing finished conversations, and how much an NPC keeps.
    public struct Summaries: Sendable, Equatable {
        public var enableAutoSummaries = true
        public var summaryAutoApprovalThreshold = 0.8
        /// Tokens one analysis may take before it counts as cut off (a failed attempt).
        public var summaryMaxTokens = 1536
        /// How long a claimed summary job is its worker's before another worker may take it.
        public var summaryJobLeaseSeconds = 600
        public var memoryMaxPerNPC = 50

        public init() {}

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Summaries {
            var summaries = Summaries()
            summaries.enableAutoSummaries = try reader.bool("ENABLE_AUTO_SUMMARIES") ?? summaries.enableAutoSummaries
            summaries.summaryAutoApprovalThreshold =
                try reader.number("SUMMARY_AUTO_APPROVAL_THRESHOLD", in: 0...1) ?? summaries.summaryAutoApprovalThreshold
            summaries.summaryMaxTokens = try reader.integer("SUMMARY_MAX_TOKENS", in: 1...32_768) ?? summaries.summaryMaxTokens
            summaries.summaryJobLeaseSeconds =
                try reader.integer("SUMMARY_JOB_LEASE_SECONDS", in: 5...86_400) ?? summaries.summaryJobLeaseSeconds
            summaries.memoryMaxPerNPC = try reader.integer("MEMORY_MAX_PER_NPC", in: 1...10_000) ?? summaries.memoryMaxPerNPC
            return summaries
        }
    }
}
