import EntenteCSV
import EntenteCore
import EntenteDomain
import Testing

/// import → export → import gives the same keys, values and sets.
@Suite("Round trip")
struct RoundTripTests {
    /// A row without its line number (an export moves lines), sets compared as sets.
    struct Content: Equatable, CustomStringConvertible {
        var key: String
        var values: [String: Value]
        var sets: [String: Set<String>]

        init(_ row: ImportRow) {
            key = row.key
            values = Dictionary(row.values.map { ($0.field, $0.value) }, uniquingKeysWith: { $1 })
            sets = Dictionary(row.sets.map { ($0.field, Set($0.elements)) }, uniquingKeysWith: { $1 })
        }

        var description: String { "\(key): \(values) \(sets)" }
    }

    static let initech = String(repeating: "a", count: 32)
    static let umbra = String(repeating: "b", count: 32)
    static let partners = ["Initech": initech, "Umbra Cloud": umbra]

    static func resolve(_ name: String) -> String? { partners[name] ?? CSVPlan.companyIDs(name) }
    static func name(_ id: String) -> String? { partners.first { $0.value == id }?.key }

    /// Imports `text`, exports the rows, re-imports the export; checks both imports agree and returns the export.
    @discardableResult
    static func roundTrip(
        _ plan: CSVPlan,
        _ text: String,
        lineEnding: CSVWriter.LineEnding = .crlf,
        byteOrderMark: Bool = false
    ) throws -> String {
        let first = try plan.convert(text: text, resolveCompany: resolve)
        #expect(first.errors == [])
        let exported = try plan.export(
            first.rows.map(ExportRow.init),
            companyName: name,
            lineEnding: lineEnding,
            byteOrderMark: byteOrderMark
        )
        let second = try plan.convert(text: exported, resolveCompany: resolve)
        #expect(second.errors == [])
        #expect(second.rows.map(Content.init) == first.rows.map(Content.init))
        #expect(second.rows.count == first.rows.count)
        return exported
    }

    static func sample(_ name: String) throws -> String {
        let root = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        return try TemporaryFile.read(root + "/Examples/data/\(name)")
    }

    @Test("the shipped samples round-trip with their built-in mappings, in every line ending, with or without BOM")
    func samples() throws {
        let salesforce = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        let pipeline = try CSVPlan(mapping: #require(Mapping.builtin(named: "generic-pipeline")))
        for ending in [CSVWriter.LineEnding.crlf, .lf] {
            for bom in [false, true] {
                try Self.roundTrip(
                    salesforce,
                    Self.sample("salesforce-opportunities.csv"),
                    lineEnding: ending,
                    byteOrderMark: bom
                )
                try Self.roundTrip(pipeline, Self.sample("pipeline.csv"), lineEnding: ending, byteOrderMark: bom)
            }
        }
    }

    @Test("the export writes the mapping's formats: CRM values, M/D/YYYY, plain amounts with a currency column")
    func exportFormats() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        let text =
            "Opportunity ID,Stage,Type,Amount,Opportunity Currency,Close Date,Delivery Model,Forecast Category\n"
            + "1,Negotiation/Review,New Business,\"$1,200,000.5\",,03/05/2027,Marketplace;SaaS,Best Case\n"
        let exported = try Self.roundTrip(plan, text)
        let records = try CSVReader(string: exported).readAll()
        let header = try CSVReader(string: exported).header
        let cells = Dictionary(uniqueKeysWithValues: zip(header, records[0].cells))
        #expect(cells["Stage"] == "Negotiation/Review")
        #expect(cells["Type"] == "New Customer", "the first CRM value of net-new")
        #expect(cells["Amount"] == "1200000.50")
        #expect(cells["Opportunity Currency"] == "USD")
        #expect(cells["Close Date"] == "3/5/2027")
        #expect(cells["Delivery Model"] == "Marketplace;SaaS")
        #expect(cells["Forecast Category"] == "Best Case")
        #expect(cells["Next Step"] == "")
        #expect(
            exported.hasPrefix("Opportunity ID,Opportunity Name,Account Name,Type,Stage,Amount,Opportunity Currency,")
        )
        #expect(exported.hasSuffix("\r\n"))
    }

    @Test("hard text survives: quotes, commas, line breaks, unicode, edge spaces, a leading BOM character, formulas")
    func hardText() throws {
        let plan = try CSVPlan(
            mapping: Mapping(
                objectType: "opportunity",
                keyColumn: "Key",
                columns: [
                    .init("Title", "title"), .init("Notes", "notes"), .init("Next", "next_steps"),
                    .init("Tags", "tags", type: "set"),
                ]
            )
        )
        var writer = CSVWriter(header: ["Key", "Title", "Notes", "Next", "Tags"])
        writer.append(["k,1", "Acme, \"The\" Company", "line 1\nline 2\r\nline 3", "=HYPERLINK(\"x\")", "a;b"])
        writer.append(["k\"2", " padded ", "Zürich — 東京 🚀", "", ""])
        writer.append(["k3", "\u{FEFF}bom inside", "", "+1 555", "solo"])
        writer.append(["k4", "", "", "", ""])
        let exported = try Self.roundTrip(plan, writer.text)
        let again = try plan.convert(text: exported)
        #expect(again.rows.first?.value("title") == .string("Acme, \"The\" Company"))
        #expect(again.rows.first?.key == "k,1")
        #expect(again.rows[1].value("title") == .string(" padded "))
        #expect(again.rows[2].value("title") == .string("\u{FEFF}bom inside"))
        #expect(again.rows[3].values.isEmpty)
    }

    @Test("a column feeding two fields exports the CRM value that gives both back, else the mapped field's")
    func sharedColumn() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        let exported = try Self.roundTrip(
            plan,
            "Opportunity ID,Stage\n1,Perception Analysis\n2,Id. Decision Makers\n3,Prospecting\n"
        )
        #expect(exported.contains("1,,,,Perception Analysis,"))
        #expect(exported.contains("2,,,,Id. Decision Makers,"))
        let moved = ExportRow(
            key: "9",
            values: ["stage": .string("closed-won"), "crm_stage": .string("Negotiation/Review")]
        )
        let text = try plan.export([moved])
        #expect(text.contains("9,,,,Closed Won,"), "a partner's stage change wins over the stale CRM stage")
    }

    @Test("amounts in several currencies: the currency column, else a code in the cell")
    func currencies() throws {
        let plan = try CSVPlan(
            mapping: Mapping(
                objectType: "fund-request",
                keyColumn: "id",
                columns: [
                    .init("requested", "requested_amount", currencyColumn: "cur"),
                    .init("approved", "approved_amount", currencyColumn: "cur"),
                    .init("fixed", "budget", type: "money", currency: "EUR"),
                ]
            )
        )
        let text = "id,requested,cur,approved,fixed\n1,100,USD,90.5 GBP,7\n2,,,5 JPY,$3.50\n"
        let exported = try Self.roundTrip(plan, text)
        #expect(exported.contains("1,100.00,USD,90.50 GBP,7.00\r\n"))
        #expect(exported.contains("2,,JPY,5.00,3.50\r\n"), "$ does not name one currency: the default EUR applies")
    }

    @Test("other formats round-trip: D.M.YYYY dates, decimal commas, timestamps, booleans, unset")
    func otherFormats() throws {
        let plan = try CSVPlan(
            mapping: Mapping(
                objectType: "opportunity",
                keyColumn: "id",
                emptyCells: "unset",
                dateFormat: "D.M.YYYY",
                numberFormat: "1.234,56",
                columns: [
                    .init("close", "close_date"), .init("amount", "amount", currency: "EUR"),
                    .init("share", "share", type: "decimal"), .init("seen", "seen", type: "timestamp"),
                    .init("hold", "on_hold", values: [.init("ja", "true"), .init("nein", "false")]),
                    .init("p", "probability"), .init("models", "delivery_models", setSeparator: "|"),
                ]
            )
        )
        let text =
            "id,close,amount,share,seen,hold,p,models\n"
            + "1,31.3.2027,\"1.234.567,89\",12%,2027-03-31T09:30:00.5+01:00,nein,25%,a| b\n"
            + "2,,,,,,,\n"
        let exported = try Self.roundTrip(plan, text)
        #expect(exported.contains("1,31.3.2027,\"1234567,89\",\"0,12\",2027-03-31T08:30:00.500Z,nein,25,a|b\r\n"))
        let cleared = try plan.convert(text: exported).rows[1]
        #expect(cleared.value("close_date") == .null)
        #expect(cleared.elements("delivery_models") == [])
    }

    @Test("a set element that holds the separator cannot be exported")
    func unrepresentable() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "generic-pipeline")))
        do {
            _ = try plan.export([ExportRow(key: "1", sets: ["delivery_models": ["saas", "a;b"]])])
            Issue.record("exported an element holding the separator")
        } catch {
            #expect(error.code == .unrepresentable)
            #expect(error.message.contains("'a;b'"))
        }
    }

    @Test("export to a file and import the file")
    func file() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "generic-pipeline")))
        let rows = try plan.convert(text: Self.sample("pipeline.csv"), resolveCompany: Self.resolve).rows
        let path = try TemporaryFile.directory() + "/out.csv"
        try plan.export(rows.map(ExportRow.init), toFileAt: path, companyName: Self.name, byteOrderMark: true)
        #expect(try TemporaryFile.read(path).hasPrefix("\u{FEFF}id,name,account"))
        let again = try plan.convert(fileAt: path, resolveCompany: Self.resolve)
        #expect(again.rows.map(Content.init) == rows.map(Content.init))
    }
}
