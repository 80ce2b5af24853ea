import EntenteCore
import EntenteReports
import Foundation
import Testing

/// Shapes of the four outputs.
@Suite struct RendererTests {
    @Test func tableShape() throws {
        let table = renderTable(try Fixture.report(.partner))
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Co-sell report: Acme")
        #expect(lines.contains("  Deals                10 (open 4 · won 4 · lost 2; 1 without amount)"))
        #expect(lines.contains("  Win ratio            66.67% (4 of 6 closed)"))
        #expect(lines.contains("  Average sales cycle  50.00 days (over 3 won deals)"))
        #expect(table.contains("BY PARTNER"))
        #expect(table.contains("PIPELINE BY STAGE"))
        // Columns are aligned: the header and separator of the currency table have the same width.
        let header = try #require(lines.firstIndex { $0.hasPrefix("  Currency") })
        #expect(lines[header].count == lines[header + 1].count)
        #expect(lines[header + 2].hasPrefix("  EUR"))
        #expect(lines[header + 3].hasPrefix("  USD"))
        // Right-aligned money: the pipeline column ends at the same position on both currency rows.
        let pipelineEnd = try #require(lines[header].range(of: "Pipeline")?.upperBound)
        let column = lines[header].distance(from: lines[header].startIndex, to: pipelineEnd)
        #expect(lines[header + 2].prefix(column).hasSuffix("60,000.00"))
        #expect(lines[header + 3].prefix(column).hasSuffix("150,000.00"))
        #expect(table.hasSuffix("\n"))
    }

    @Test func jsonShape() throws {
        let text = renderJSON(try Fixture.report(.partner))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let keys = [
            "schema", "title", "thisCompany", "asOf", "groupBy", "groupsOverlap", "privateValuesHidden",
            "conversion", "currencies", "total", "groups", "partners", "pipelineByStage",
        ]
        #expect(Set(object.keys) == Set(keys))
        // Stable order: each key's first appearance follows the previous one.
        let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0! < $1! })
        #expect(object["schema"] as? String == "entente.report/1")
        #expect(object["asOf"] as? String == "2025-06-30")
        #expect(object["groupsOverlap"] as? Bool == true)
        #expect(object["conversion"] is NSNull)

        let total = try #require(object["total"] as? [String: Any])
        #expect(
            total.keys.sorted() == [
                "counts", "currencies", "key", "partnerInfluenced", "partnerSourced", "salesCycle", "winRatio",
            ]
        )
        let counts = try #require(total["counts"] as? [String: Int])
        #expect(counts == ["open": 4, "won": 4, "lost": 2, "total": 10, "withoutAmount": 1])
        let ratio = try #require(total["winRatio"] as? [String: Any])
        #expect(ratio["percent"] as? String == "66.67")
        let currencies = try #require(total["currencies"] as? [[String: Any]])
        #expect(currencies.map { $0["currency"] as? String } == ["EUR", "USD"])
        #expect(currencies[1]["pipeline"] as? String == "150000.00")
        #expect(currencies[1]["averageWonDealSize"] as? String == "53333.33")
        #expect(currencies[1]["velocityPerDay"] as? String == "1422.22")
        let groups = try #require(object["groups"] as? [[String: Any]])
        #expect(groups.count == 4)
        #expect(groups[3]["key"] is NSNull)
        let umbrella = groups[2]
        #expect(umbrella["salesCycle"] is NSNull)
        // Same input, same bytes.
        #expect(renderJSON(try Fixture.report(.partner)) == text)
    }

    @Test func csvShape() throws {
        let text = renderCSV(try Fixture.report(.partner))
        #expect(text.hasSuffix("\r\n"))
        let rows = CSV.parse(text)
        let header = try #require(rows.first)
        #expect(header.count == 24)
        #expect(Array(header.prefix(3)) == ["scope", "group", "currency"])
        #expect(rows.allSatisfy { $0.count == header.count })
        // total × (EUR, USD) + Globex × 2 + Initech × 2 + Umbrella × 2 + no partner × USD
        #expect(rows.count == 1 + 2 + 2 + 2 + 2 + 1)
        func cell(_ row: [String], _ column: String) -> String? {
            header.firstIndex(of: column).map { row[$0] }
        }
        let totalUSD = try #require(rows.first { $0[0] == "total" && $0[2] == "USD" })
        #expect(cell(totalUSD, "pipeline") == "150000.00")
        #expect(cell(totalUSD, "revenue") == "160000.00")
        #expect(cell(totalUSD, "win_ratio_percent") == "66.67")
        #expect(cell(totalUSD, "average_sales_cycle_days") == "50.00")
        #expect(cell(totalUSD, "deals_open") == "4")
        #expect(cell(totalUSD, "currency_deals_open") == "2")
        #expect(cell(totalUSD, "as_of") == "2025-06-30")
        let umbrellaUSD = try #require(rows.first { $0[1] == "Umbrella" && $0[2] == "USD" })
        #expect(cell(umbrellaUSD, "velocity_per_day") == "n/a")
        let direct = try #require(rows.last)
        #expect(direct[0] == "group")
        #expect(direct[1] == "")
    }

    @Test func htmlShape() throws {
        let html = renderHTML(try Fixture.report(.partner))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        for chart in ["pipeline-by-stage", "sourced-vs-influenced", "win-ratio-by-partner"] {
            #expect(html.contains("data-chart=\"\(chart)\""))
        }
        #expect(html.contains("<style>"))
        #expect(html.contains("2025-06-30"))
        #expect(html.contains("66.67%"))
        // Self-contained: no script, no external resource of any kind.
        #expect(!html.contains("<script"))
        for external in ["src=", "href=", "url(", "@import", "<link", "https://"] {
            #expect(!html.contains(external), "found \(external)")
        }
        let http = html.components(separatedBy: "http://").dropFirst()
        #expect(http.allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
        #expect(!html.contains("private-banner"))
    }

    @Test func privateBanner() throws {
        let hidden = try Fixture.report(hidePrivate: true)
        #expect(hidden.privateValuesHidden)
        #expect(renderHTML(hidden).contains("id=\"private-banner\""))
        #expect(renderHTML(hidden).contains("Private values hidden"))
        #expect(renderTable(hidden).contains("*** Private values hidden"))
        #expect(renderJSON(hidden).contains("\"privateValuesHidden\": true"))
        let rows = CSV.parse(renderCSV(hidden))
        #expect(rows.dropFirst().allSatisfy { $0.last == "true" })

        let shown = try Fixture.report()
        #expect(!renderTable(shown).contains("Private values hidden"))
        #expect(renderJSON(shown).contains("\"privateValuesHidden\": false"))
    }
}

/// Names and titles come from partners: every output must keep them inert.
@Suite struct EscapingTests {
    static let script = "<script>alert(1)</script>"
    static let attribute = "\"onload=\"alert(2)"
    static let image = "Q3 <img src=x onerror=alert(3)> & 'co'"
    static let formula = "=HYPERLINK(\"http://evil\",\"x\")"
    static let terminal = "Evil\u{1B}[2J\u{202E}Corp"

    static func report() throws -> Report {
        let names = [script, attribute, formula, terminal]
        let deals =
            names.enumerated().map { index, name in
                DealRecord(
                    id: "E\(index)",
                    title: image,
                    stage: script,
                    outcome: index % 2 == 0 ? .won : .lost,
                    amount: Fixture.money("1000.00 USD"),
                    created: Fixture.date("2025-01-01"),
                    closeDate: Fixture.date("2025-02-01"),
                    originatingCompany: name,
                    participants: ["Acme & Sons", name],
                    region: attribute
                )
            } + [
                DealRecord(
                    id: "open",
                    title: image,
                    stage: script,
                    outcome: .open,
                    amount: Fixture.money("5.00 USD"),
                    created: Fixture.date("2025-01-01"),
                    participants: ["Acme & Sons", script]
                )
            ]
        let options = ReportOptions(
            thisCompany: "Acme & Sons",
            groupBy: .partner,
            asOf: Fixture.asOf,
            title: image
        )
        return try Report(deals: deals, options: options)
    }

    @Test func htmlEscapesEverything() throws {
        let html = renderHTML(try Self.report())
        #expect(!html.contains(Self.script))
        #expect(!html.contains("<script"))
        #expect(!html.contains("\"onload="))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;onload=&quot;alert(2)"))
        #expect(html.contains("Q3 &lt;img src=x onerror=alert(3)&gt; &amp; &#39;co&#39;"))
        #expect(html.contains("Acme &amp; Sons"))
        #expect(!html.contains("\u{1B}"))
        #expect(!html.contains("\u{202E}"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        // Every `<` in the page opens a tag this renderer wrote.
        let tags = Set(
            html.components(separatedBy: "<").dropFirst().map { fragment in
                String(fragment.prefix { $0.isLetter || $0 == "/" || $0 == "!" })
            }
        )
        let allowed: Set<String> = [
            "!DOCTYPE", "html", "/html", "head", "/head", "meta", "title", "/title", "style", "/style", "body",
            "/body", "main", "/main", "header", "/header", "h", "/h", "p", "/p", "strong", "/strong", "div", "/div",
            "section", "/section", "svg", "/svg", "text", "/text", "rect", "/rect", "line", "table", "/table",
            "thead", "/thead", "tbody", "/tbody", "tr", "/tr", "th", "/th", "td", "/td", "footer", "/footer",
        ]
        #expect(tags.subtracting(allowed).isEmpty, "unexpected tags \(tags.subtracting(allowed))")
    }

    @Test func jsonRoundTripsNames() throws {
        let text = renderJSON(try Self.report())
        #expect(!text.contains("<script"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["title"] as? String == Self.image)
        let partners = try #require(object["partners"] as? [[String: Any]])
        let names = Set(partners.compactMap { $0["partner"] as? String })
        #expect(names == [Self.script, Self.attribute, Self.formula, Self.terminal])
    }

    @Test func csvQuotesAndDefusesFormulas() throws {
        let rows = CSV.parse(renderCSV(try Self.report()))
        let groups = Set(rows.dropFirst().filter { $0[0] == "group" }.map { $0[1] })
        #expect(groups.contains(Self.script))
        #expect(groups.contains(Self.attribute))
        #expect(groups.contains("'" + Self.formula))
        #expect(!groups.contains(Self.formula))
    }

    @Test func tableStripsControlCharacters() throws {
        let table = renderTable(try Self.report())
        #expect(!table.contains("\u{1B}"))
        #expect(!table.contains("\u{202E}"))
        #expect(table.contains("Evil\u{FFFD}[2J\u{FFFD}Corp"))
    }
}
