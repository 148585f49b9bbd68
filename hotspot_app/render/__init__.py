"""Layer 4, rendering: folium maps (`maps`), offline PNG maps (`static_maps`), Altair charts
(`charts`), numbers and tables as text (`formatting`), formatted XLSX (`xlsx`) and the report
pack (`pack`). Renders what the questions (layer 3) return; decides no figures of its own."""
