public import Foundation

/// What can go wrong reviewing analyses.
public enum SummaryError: Error, Sendable, Equatable, CustomStringConvertible {
    case analysisNotFound(UUID)
    case notPending(UUID, StoredAnalysis.State)
    case jobNotFound(UUID)
    case jobNotDead(UUID, SummaryJob.State)

    public var description: String {
        switch self {
        case .analysisNotFound(let id): "no analysis with id \(id.lowercased)"
        case .notPending(let id, let state): "analysis \(id.lowercased) is already \(state.rawValue); only pending ones can be decided"
        case .jobNotFound(let id): "no summary job with id \(id.lowercased)"
        case .jobNotDead(let id, let state): "summary job \(id.lowercased) is \(state.rawValue); only dead ones are retried"
        }
    }
}
