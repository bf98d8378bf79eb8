"""Dispatch (拦截调度): tasks for the stations ahead of an alerted vehicle."""
