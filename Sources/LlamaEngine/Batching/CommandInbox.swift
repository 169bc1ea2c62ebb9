import Foundation

/// Hands commands from any thread to the engine's decoding thread, which sleeps while it has no work.
///
/// `@unchecked Sendable`: `commands` is only touched with `condition` locked.
final class CommandInbox<Command>: @unchecked Sendable {
    private let condition = NSCondition()
    private var commands: [Command] = []

    func post(_ command: Command) {
        condition.lock()
        commands.append(command)
        condition.signal()
        condition.unlock()
    }

    /// Everything posted so far; with `wait`, blocks the calling thread until there is something.
    func take(wait: Bool) -> [Command] {
        condition.lock()
        defer { condition.unlock() }
        while wait && commands.isEmpty { condition.wait() }
        let taken = commands
        commands = []
        return taken
    }
}
