"""Fixed documents the fake web serves."""

PAGE = """<!doctype html><html><head><title>Otter facts</title>
<style>body { color: red }</style><script>alert("x")</script></head>
<body><nav><a href="/web/nav.html">Menu</a></nav>
<h1>Otters</h1><p>Otters hold hands while they sleep. See <a href="zoo.html#pool">the zoo</a>
or <a href="https://elsewhere.example.org/">elsewhere</a>.</p>
<ul><li>Sea otters</li><li>River otters</li></ul></body></html>"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Otter news</title><link>https://otters.example.org/</link>
<description>News</description>
<item><title>First otter</title><link>https://otters.example.org/1</link>
<guid>otter-1</guid><pubDate>Sun, 01 Nov 2026 09:00:00 GMT</pubDate>
<description>The first one.</description></item>
<item><title>Second otter</title><link>https://otters.example.org/2</link>
<guid>otter-2</guid><pubDate>Mon, 02 Nov 2026 09:00:00 GMT</pubDate>
<description>The second one.</description></item>
</channel></rss>"""
