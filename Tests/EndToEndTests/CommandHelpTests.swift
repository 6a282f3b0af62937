import Foundation
import Testing

/// Every command's `--help` shows an example, found by walking the command tree the binary itself describes
/// (`--experimental-dump-help`), so a command added later without one fails here.
@Suite("Command help")
struct CommandHelpTests {
    struct ToolInfo: Decodable {
        struct Command: Decodable {
            var commandName: String
            var discussion: String?
            var subcommands: [Command]?
        }
        var command: Command
    }

    static func paths(_ command: ToolInfo.Command, _ prefix: [String] = []) -> [([String], ToolInfo.Command)] {
        [(prefix, command)]
            + (command.subcommands ?? []).filter { $0.commandName != "help" }.flatMap {
                paths($0, prefix + [$0.commandName])
            }
    }

    @Test("every command's help shows an example")
    func examples() throws {
        let desk = try PostdeskProcess()
        let dump = try desk.run(["--experimental-dump-help"], socket: false)
        #expect(dump.status == 0)
        let tool = try JSONDecoder().decode(ToolInfo.self, from: Data(dump.out.utf8))
        let commands = Self.paths(tool.command)
        #expect(commands.count > 30, "the tree has every command: \(commands.map(\.0))")
        for (path, command) in commands {
            #expect(command.discussion?.contains("Example") == true, "postdesk \(path.joined(separator: " ")) --help")
            let help = try desk.run(path + ["--help"], socket: false)
            #expect(help.out.contains("Example"), "postdesk \(path.joined(separator: " ")) --help")
        }
    }
}
