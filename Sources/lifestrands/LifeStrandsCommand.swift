import ArgumentParser

@main
struct LifeStrandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifestrands",
        abstract: "Persistent, evolving NPCs that talk through a local LLM.",
        subcommands: [
            ServeCommand.self, MigrateCommand.self, NPCCommand.self, SeedCommand.self, ChatCommand.self, ModelCommand.self,
            HealthCommand.self, TokenCommand.self, BackupCommand.self, RestoreCommand.self, QueuesCommand.self,
            VectorBenchCommand.self,
        ]
    )
}
