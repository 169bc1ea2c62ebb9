public import Foundation
import Glibc
import Synchronization

/// What a program printed, and how it ended.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A program the test ran did not end before its deadline, and was killed.
public struct ProcessTimedOut: Error, CustomStringConvertible {
    public let command: String
    public let timeout: Duration
    public let stderr: String
    public var description: String { "\(command) still ran after \(timeout) and was killed; its stderr ends: \(stderr.suffix(2000))" }
}

/// Runs programs from tests without blocking Swift's few cooperative threads, and never for ever.
public enum ChildProcess {
    /// Runs a program to its end. Its output goes to files, so no pipe can fill and block it; its exit is
    /// awaited, not waited for on a thread. A program still running after `timeout`, or when the test is
    /// cancelled (a `.timeLimit`), is killed.
    public static func run(
        _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String]? = nil,
        input: String? = nil, timeout: Duration = .seconds(600)
    ) async throws -> ProcessResult {
        let name = "\(executable.lastPathComponent)-\(UUID().uuidString.prefix(8))"
        let outURL = directory.appending(path: "\(name).out")
        let errURL = directory.appending(path: "\(name).err")
        let inURL = directory.appending(path: "\(name).in")
        defer { for url in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: url) } }
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((input ?? "").utf8))

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        process.standardInput = input == nil ? FileHandle.nullDevice : try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let ending = try await runToExit(process, timeout: timeout)
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if case .watchedProcessDied(let failure) = ending {
            throw WatchedProcessDied(
                description: "\(executable.lastPathComponent) was stopped: \(failure); its stderr ends: \(stderr.suffix(1500))")
        }
        if ending == .timedOut {
            throw ProcessTimedOut(
                command: ([executable.lastPathComponent] + arguments).joined(separator: " "), timeout: timeout, stderr: stderr)
        }
        return ProcessResult(
            status: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: stderr)
    }

    /// How a program run by `runToExit` ended.
    public enum Ending: Equatable, Sendable {
        case exited
        /// Killed at its deadline.
        case timedOut
        /// Killed because a process the test depends on died (`Watchdog`): waiting on would be in vain.
        case watchedProcessDied(String)
    }

    /// Starts `process` and returns once it has exited, been killed at its deadline, or been killed because
    /// a watched process died.
    public static func runToExit(_ process: Process, timeout: Duration) async throws -> Ending {
        let exited = ExitSignal()
        process.terminationHandler = { _ in exited.fire() }
        try process.run()
        let guardian = Task { () -> Ending in
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                do {
                    try Watchdog.check()
                } catch {
                    Glibc.kill(process.processIdentifier, SIGKILL)
                    return .watchedProcessDied("\(error)")
                }
            }
            Glibc.kill(process.processIdentifier, SIGKILL)
            return .timedOut
        }
        await withTaskCancellationHandler {
            await exited.wait()
        } onCancel: {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        guardian.cancel()
        return (try? await guardian.value) ?? .exited
    }

    /// Asks `process` to stop (SIGTERM) and waits up to `grace` for it, then kills it (SIGKILL).
    public static func stop(_ process: Process, grace: Duration = .seconds(30)) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A one-time event that any number of waiters await.
final class ExitSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
