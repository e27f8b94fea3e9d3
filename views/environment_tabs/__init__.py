"""The Environments page's tabs, one module each (views/environments.py is
the page: its headline cards, the go-live dates and the tabs). Not pages
themselves: app.py's navigation names only views/*.py."""
