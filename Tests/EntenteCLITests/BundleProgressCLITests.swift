import Foundation
import Testing

/// `entente bundle import` reports its progress on standard error: for large bundles by default, for any with
/// `--progress`, never with `--quiet`.
@Suite struct BundleProgressCLITests {
    @Test func progressLinesFollowTheFlags() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        for title in ["Alpha", "Beta", "Gamma"] {
            try await cli.ok("new", "opportunity", "--dir", "g", "--joint", "title=\(title)", "--with", "Initech")
        }
        try await cli.ok("bundle", "export", "--to", "Initech", "--out", "deals.bundle", "--dir", "g")
        try await cli.fails(
            ["bundle", "import", "deals.bundle", "--dir", "i", "--progress", "--quiet"],
            mentioning: "contradict"
        )

        // Forced on a small bundle: the check, then the merge, each up to the whole bundle, in that order.
        let forced = try await cli.run(["bundle", "import", "deals.bundle", "--dir", "i", "--progress"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let lines = forced.stderr.split(separator: "\n").map(String.init)
        let checked = try #require(lines.firstIndex { $0.hasPrefix("checked ") }, "\(lines)")
        let merged = try #require(lines.lastIndex { $0.hasPrefix("merged ") }, "\(lines)")
        #expect(checked < merged)
        let total = try #require(lines[checked].split(separator: " ")[1].split(separator: "/").last)
        #expect(lines[checked] == "checked \(total)/\(total) envelopes")
        #expect(lines[merged] == "merged \(total)/\(total) envelopes")
        #expect(try await cli.ok("list", "--dir", "i").contains("Gamma"))

        // By default a bundle this small prints none, and `--quiet` never does.
        for flags in [[], ["--quiet"]] {
            let again = try await cli.run(["bundle", "import", "deals.bundle", "--dir", "i"] + flags)
            #expect(again.status == 0)
            #expect(!again.stderr.contains("checked") && !again.stderr.contains("merged"), "\(again.stderr)")
        }
    }
}
