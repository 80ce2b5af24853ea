import EntenteTestSupport
import Foundation
import Testing

/// CRM CSV import and export through the built binary.
@Suite struct CSVCLITests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/data/salesforce-opportunities.csv").path

    @Test func importExportReimportChangesNothingAndPrivateValuesStayHome() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        try await cli.ok(
            "policy",
            "add",
            "--type",
            "opportunity",
            "--where",
            "region=EMEA",
            "--invite",
            "Initech",
            "--dir",
            "g"
        )
        let first = try await cli.ok(
            "import",
            "csv",
            Self.sample,
            "--map",
            "salesforce-opportunity",
            "--json",
            "--dir",
            "g"
        )
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(summary["created"] as? Int == 12 && summary["written"] as? Bool == true)
        let again = try await cli.ok("import", "csv", Self.sample, "--map", "salesforce-opportunity", "--dir", "g")
        #expect(again.contains("created 0, updated 0, unchanged 12"), "\(again)")
        try await cli.ok("export", "csv", "--map", "salesforce-opportunity", "--out", "export.csv", "--dir", "g")
        let exported = String(decoding: cli.bytes("export.csv"), as: UTF8.self)
        #expect(exported.hasPrefix("Opportunity ID,") && exported.contains("\"Acme, Inc.\""))
        let round = try await cli.ok("import", "csv", "export.csv", "--map", "salesforce-opportunity", "--dir", "g")
        #expect(round.contains("created 0, updated 0, unchanged 12"), "\(round)")
        // The EMEA deals went to Initech (policy on import); deal values are private by default.
        try await cli.ok("bundle", "export", "--to", "Initech", "--out", "i.bundle", "--dir", "g")
        try await cli.ok("bundle", "import", "i.bundle", "--dir", "i")
        let list = try await cli.ok("list", "--dir", "i")
        #expect(list.contains("Acme data platform"))
        for sentinel in ["1240000", "0068d00000KxA1AAAQ", "Dana Whitfield"] {
            #expect(!contains(cli.bytes("i.bundle"), sentinel))
            for file in try FileManager.default.subpathsOfDirectory(atPath: cli.path("i")) {
                #expect(!contains(cli.bytes("i/" + file), sentinel), "\(sentinel) reached Initech's \(file)")
            }
        }
    }

    @Test func badRowsAreNamedByLineAndNothingIsImportedUnlessSkipped() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        let csv = """
            id,name,account,stage,amount,currency,close_date,region
            A-1,"Quoted, comma",Acme,prospect,100,USD,2027-01-31,EMEA
            A-2,Bad date,Acme,prospect,100,USD,31/31/2027,EMEA
            A-3,"Multi
            line",Acme,closed-lost,100,USD,2027-02-01,EMEA
            A-4,Fine,Acme,qualified,,,,NA

            """
        try cli.write(Array(("\u{FEFF}" + csv).utf8), "pipeline.csv")
        let before = try await cli.ok("list", "--json", "--dir", "g")
        let result = try await cli.run(["import", "csv", "pipeline.csv", "--dir", "g"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("line 3") && result.stderr.contains("31/31/2027"), "\(result.stderr)")
        #expect(result.stderr.contains("line 4") && result.stderr.contains("closed_lost_reason"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was imported"))
        #expect(try await cli.ok("list", "--json", "--dir", "g") == before, "a refused import changed the store")
        let skipped = try await cli.ok("import", "csv", "pipeline.csv", "--skip-bad-rows", "--dir", "g")
        #expect(skipped.contains("created 2"), "\(skipped)")
        #expect(try await cli.ok("list", "--dir", "g").contains("Quoted, comma"))
        try await cli.fails(["import", "csv", "missing.csv", "--dir", "g"], mentioning: "missing.csv")
        try await cli.fails(
            ["import", "csv", "pipeline.csv", "--map", "nope.json", "--dir", "g"],
            mentioning: "nope.json"
        )
    }
}

/// `entente report` through the built binary.
@Suite struct ReportCLITests {
    @Test func reportPrintsTableJSONCSVAndWritesAnHTMLPage() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        try await cli.ok("import", "csv", CSVCLITests.sample, "--map", "salesforce-opportunity", "--dir", "g")
        let table = try await cli.ok("report", "--by", "stage", "--as-of", "2027-01-01", "--dir", "g")
        #expect(table.contains("Win ratio") && table.contains("PIPELINE BY STAGE"))
        let json = try await cli.ok("report", "--json", "--as-of", "2027-01-01", "--dir", "g")
        #expect((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) != nil)
        let csv = try await cli.ok("report", "--csv", "--by", "quarter", "--as-of", "2027-01-01", "--dir", "g")
        #expect(csv.split(whereSeparator: \.isNewline).count > 2)
        try await cli.ok("report", "--html", "qbr.html", "--hide-private", "--as-of", "2027-01-01", "--dir", "g")
        let page = String(decoding: cli.bytes("qbr.html"), as: UTF8.self)
        #expect(page.components(separatedBy: "<svg").count - 1 == 3)
        #expect(!page.contains("1,240,000") && !page.contains("1240000"), "a private deal value is on the hidden page")
        let shown = try await cli.ok("report", "--as-of", "2027-01-01", "--dir", "g")
        #expect(shown.contains("1,240,000"), "the private deal value is in the company's own report")
        try await cli.fails(["report", "--by", "galaxy", "--dir", "g"], mentioning: "unknown grouping 'galaxy'")
        try await cli.fails(["report", "--rate", "EUR=1.1", "--dir", "g"], mentioning: "--to-currency")
        try await cli.fails(["report", "--as-of", "2027-13-01", "--dir", "g"], mentioning: "2027-13-01")
    }

    /// Export writes a page of records at a time into a temporary file renamed over the target when complete: more
    /// than two pages come out whole (header once, every row, re-imported unchanged), an existing file is replaced
    /// with nothing left beside it, and an export that cannot write leaves nothing behind.
    @Test func aLargeExportIsWrittenInPagesAndReplacesTheFileWhole() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        var csv = "id,name,account,stage,amount,currency,close_date,region\n"
        for index in 0..<2_500 { csv += "A-\(index),Deal \(index),Acme,prospect,\(index),USD,2027-01-31,EMEA\n" }
        // A bad row after the first chunk of 2,000 keeps the whole file out (it is read once to check).
        try cli.write(Array((csv + "A-bad,Dud,Acme,prospect,1,USD,31/31/2027,EMEA\n").utf8), "bad.csv")
        try await cli.fails(["import", "csv", "bad.csv", "--dir", "g"], mentioning: "nothing was imported")
        let listed = try await cli.ok("list", "--dir", "g")
        #expect(!listed.contains("Deal "), "a refused import wrote: \(listed.prefix(200))")
        try cli.write(Array(csv.utf8), "pipeline.csv")
        let imported = try await cli.ok("import", "csv", "pipeline.csv", "--dir", "g")
        #expect(imported.contains("2500 rows: created 2500"), "\(imported)")
        #expect(try await cli.ok("list", "--dir", "g").contains("Deal 2499"))
        try cli.write(Array("an older export".utf8), "export.csv")
        let result = try await cli.run(["export", "csv", "--out", "export.csv", "--dir", "g"])
        #expect(result.status == 0 && result.stderr.contains("wrote 2500 opportunity rows"), "\(result.stderr)")
        let lines = String(decoding: cli.bytes("export.csv"), as: UTF8.self).split(separator: "\r\n")
        #expect(lines.count == 2_501 && lines.filter { $0.hasPrefix("A-") }.count == 2_500)
        #expect(lines.first?.hasPrefix("id,") == true && !lines.dropFirst().contains { $0.hasPrefix("id,") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path(".")).filter { $0.contains("partial") } == [])
        let again = try await cli.ok("import", "csv", "export.csv", "--dir", "g")
        #expect(again.contains("created 0, updated 0, unchanged 2500"), "\(again)")
        // Standard output gets the same text (the runner trims the final line ending).
        let printed = try await cli.ok("export", "csv", "--dir", "g")
        let file = String(decoding: cli.bytes("export.csv"), as: UTF8.self)
        let same = printed.trimmingCharacters(in: .newlines) == file.trimmingCharacters(in: .newlines)
        #expect(same, "standard output differs from the file (\(printed.utf8.count) and \(file.utf8.count) bytes)")
        try await cli.fails(["export", "csv", "--out", "missing/export.csv", "--dir", "g"], mentioning: "cannot write CSV")
        #expect(!FileManager.default.fileExists(atPath: cli.path("missing")))
    }
}
