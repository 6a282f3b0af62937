import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct ChannelTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Test a channel's mailbox and the SMTP relay: the server's own words, our diagnosis and the fix.",
        discussion: """
            Connects, upgrades TLS, logs in, opens INBOX (IMAP, read-only) or STAT (POP3), reports the \
            capabilities and how many messages would be processed, then tests the SMTP relay without sending. \
            A channel that needed attention starts again when its test passes.

            Example:
              postdesk channel test help@desk.test
            """)
    @OptionGroup var options: AdminOptions
    @Argument(help: "The channel's address.") var address: String

    func run() async throws {
        let data = try await admin {
            try await options.client.raw(.POST, "/v1/channels/\(address.lowercased())/test", body: String?.none)
        }
        let report = try decodeAnswer(ChannelTestReport.self, data)
        if options.json {
            printJSON(data)
        } else {
            print(report.renderText())
        }
        if !report.ok { throw ExitCode.failure }
    }
}
