"""The Streamlit inspector: reads index dirs and traces, never rebuilds.

Empty until the app lands; see DESIGN.md for what goes here.
"""
