// postdesk is the executable: argument parsing for `serve` and the admin commands, then a call
// into AdminAPI. It holds no logic of its own.

import AdminAPI
import ArgumentParser
import PostdeskWire

@main
struct PostdeskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postdesk",
        abstract: "The email channel of a service desk.",
        discussion: """
            Examples:
              postdesk serve --data-dir /var/lib/postdesk
              postdesk queue SD
              postdesk --generate-completion-script bash > /etc/bash_completion.d/postdesk
            """,
        version: PostdeskVersion.current,
        subcommands: [
            ServeCommand.self, ProjectCommand.self, RequestTypeCommand.self, SMTPCommand.self, ChannelCommand.self,
            CustomerCommand.self, QueueCommand.self, RequestCommand.self, StatusCommand.self, LogCommand.self,
            InboundCommand.self, OutboxCommand.self, InspectCommand.self, BackupCommand.self, RestoreCommand.self,
            OAuthCommand.self, AgentCommand.self, TokenCommand.self, NotificationCommand.self, WebhookCommand.self,
            NodesCommand.self, StoreCommand.self,
        ]
    )
}
